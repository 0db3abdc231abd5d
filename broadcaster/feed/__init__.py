"""The district feed: district stations push signed clips to their communes, communes report back.

Data moves one way through these modules:

    district:  signing → manifest → publish (a folder of static files any web server can serve)
    commune:   transport (HTTP or a folder/USB inbox) → verify (signing + manifest) → sync → library ingest
               sync/asrun → outbox → collector (district) → report

The security model (signed manifest, pinned key, monotonic version, expiry) is in docs/feed.md.
"""

"""broadcaster: scheduling and playout for Vietnamese commune loudspeaker radio (đài truyền thanh cấp xã)."""

__version__ = "0.1.0"

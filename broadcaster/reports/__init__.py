"""Report and logbook documents: a format-neutral outline (what the document says) and one renderer per format
(how it looks in DOCX, PDF, XLSX, CSV). DOCX and PDF lay out the same outline, so their words and figures agree.
"""

"""Document building blocks (ReportLab): fonts, page templates, the protocol and letters."""

"""Certificate Transparency: RFC 6962 log entries as ``ct`` reports (``entries``), and ``shoal ct follow``
reading a log into the store, resumably (``follow``)."""

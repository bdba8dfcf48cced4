"""Importers and exporters: ACD interval reports, call-by-call logs, CSV, iCalendar."""

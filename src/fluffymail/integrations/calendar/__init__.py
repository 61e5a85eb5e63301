"""Calendar adapters: Google Calendar (API v3) and iCalendar (.ics) files, yielding meetings."""

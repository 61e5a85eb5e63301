"""Meetings: calendar events (Google Calendar, .ics files) stored per user and joined to contacts."""

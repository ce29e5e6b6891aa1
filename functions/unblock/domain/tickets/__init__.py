"""Intake, the pure part: redaction (`redaction`) and fact extraction (`facts`) from ticket text, the
normalized ticket event (`ticket_event`), the help-desk webhooks (`webhooks`: signature checks
and payload mapping) and the redacted report (`reports`). No AWS here.

Import the module you need: nothing is re-exported, so a function that only builds reports
does not load the webhook parsers on its cold start."""

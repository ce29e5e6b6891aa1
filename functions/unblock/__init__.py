"""unblock: remediation workflow for 403 Forbidden reports from an AI API gateway."""

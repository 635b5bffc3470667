"""Reports, schedules and alerts: the analysis leaves the portal as HTML/PDF, e-mail and signed webhooks."""

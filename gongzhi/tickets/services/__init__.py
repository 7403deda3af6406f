"""Every write of the tickets domain: intake (submit), handling (the state machine, whistles,
ratings, merges) and the periodic sweep (escalation, reminders, closing unrated tickets)."""

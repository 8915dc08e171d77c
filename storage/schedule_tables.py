"""Tables of the rotation, schedule, reminders and discussion area."""

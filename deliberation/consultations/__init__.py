"""Council meetings, open consultations and hearings: notice, console, motions, minutes."""

"""The audit trail: who did what to which object, through which door, and how it ended; a leaf app."""

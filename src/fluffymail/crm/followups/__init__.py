"""Follow-ups: keep-in-touch cadences, what is due from them, from relationships going cold and
from open loops in the mail, and done / snooze / dismiss. No HTTP, no queue internals."""

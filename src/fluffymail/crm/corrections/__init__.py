"""What a person corrects by hand: a contact's name, company, title and phone (kept from later
extraction), hiding a contact or marking it not a person, contacts made by hand, and company
edits and merges with undo. Knows nothing of HTTP."""

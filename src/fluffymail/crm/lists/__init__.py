"""Lists of contacts: saved views (a filter, a sort and columns) and static lists (chosen
contacts). Knows nothing of HTTP."""

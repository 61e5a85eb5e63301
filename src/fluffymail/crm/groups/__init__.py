"""Groups: distribution lists and team addresses found in the user's mail (issue 12).

A group is a contact of kind 'group' (`contacts.groups` decides which); this package lists a
user's groups and the people seen writing to each. `repo` is the only module that runs
`sql/*.sql`.
"""

"""Accounts: users, memberships (role × place × validity window), device tokens.

A membership is the only source of access. It binds a user to one place node
(street, community, grid, building or gate) in one role for a window of time.
A temporary grant (临时授权, R15) is a membership with an end time, the user who
granted it and a reason. What a role may do is the fixed table in ``roles.py``;
where it may do it is the membership's place. No membership, no access.
"""

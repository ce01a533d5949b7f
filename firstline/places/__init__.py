"""Places: the governance hierarchy a deployment serves (R1).

street › community (urban or village) › grid (villager group in a village) ›
building › entrance › household. Urban communities also have compounds (gated
estates) with gates; villages have gates on their roads. Zones (战区) group grids
under a named commander. Every household row carries the keys of all its
ancestors (street, community, grid, building) so that scoping a query is one
indexed filter, never a join up the tree.
"""

"""Signals of the territory: `node_moved` is sent after a subtree moved (paths rewritten in bulk,
so no post_save fires). Caches keyed by place listen to it; domain logic does not."""

from django.dispatch import Signal

node_moved = Signal()  # sender=Node, node=the moved node

"""Who may see or hear a call's personal data: the screen-pop's rule, written once.

A lawyer sees a caller's full number and hears the recording only of calls put through to them;
supervisors and admins of every call; station staff of none (ticketing.domain.roles.sees_in_full).
"""

from __future__ import annotations

from storage.tables import Call, User
from ticketing.domain.roles import Role, sees_in_full


def put_through_to(call: Call, user: User) -> bool:
    """Whether `call` was answered by `user` (by account, or by the phone the account uses)."""
    return call.lawyer_id == user.id or (bool(user.interface) and call.agent_interface == user.interface)


def may_hear(role: Role, call: Call, user: User) -> bool:
    """Whether `user` (in `role`) may play `call`'s recordings."""
    return sees_in_full(role, own=put_through_to(call, user))

"""Events the subsidy service handles: each maps an event payload to one service function.

None of its own yet; the partner registry's events are added for every service that
hears onboarding (``ServiceSpec.all_handlers``).
"""

from __future__ import annotations

from kumiai.inbox import Handler

HANDLERS: dict[str, Handler] = {}

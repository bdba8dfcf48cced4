"""Agent self-service and proximity management (docs/selfservice.md).

Domain only (no server, web or report imports): time-off allowances (`allowances`),
requests and their one status enum (`requests`), schedule changes (time off, swaps, offers,
activities) re-checked by the independent rule checker (`changes`), their effect on
coverage and Erlang service level (`effect`), auto-approval rules (`approval`), the request
ledger that applies decisions (`ledger`), shift bidding as an exact assignment problem
(`bidding`) and the meeting scheduler (`meetings`). Activities are `openwfm.activities`.
"""

from openwfm.selfservice.allowances import Accrual, Allowance
from openwfm.selfservice.approval import AutoApprovalRule, Decision
from openwfm.selfservice.bidding import Award, BidMethod, award_bids
from openwfm.selfservice.changes import (
    ActivityChange,
    ChangeError,
    Offer,
    Swap,
    TimeOff,
    apply_change,
    validate_change,
)
from openwfm.selfservice.effect import Effect, change_effect
from openwfm.selfservice.ledger import Ledger, Request
from openwfm.selfservice.meetings import MeetingPlacement, place_meeting
from openwfm.selfservice.requests import RequestKind, RequestStatus

__all__ = [
    "Accrual",
    "ActivityChange",
    "Allowance",
    "AutoApprovalRule",
    "Award",
    "BidMethod",
    "ChangeError",
    "Decision",
    "Effect",
    "Ledger",
    "MeetingPlacement",
    "Offer",
    "Request",
    "RequestKind",
    "RequestStatus",
    "Swap",
    "TimeOff",
    "apply_change",
    "award_bids",
    "change_effect",
    "place_meeting",
    "validate_change",
]

"""Request kinds and the one request status enum, with its allowed transitions.

A time-off request goes ``pending_approval`` -> ``approved`` / ``auto_approved`` /
``rejected``; a swap or an offer first waits for the other agent (``pending_acceptance`` ->
``declined``, or accepted -> ``pending_approval``). The requester may cancel any request
that is not final.

Examples
--------
>>> next_status(RequestStatus.PENDING_ACCEPTANCE, "accept")
<RequestStatus.PENDING_APPROVAL: 'pending_approval'>
>>> next_status(RequestStatus.APPROVED, "cancel")
Traceback (most recent call last):
...
openwfm.selfservice.requests.TransitionError: a request approved cannot be cancelled
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["FINAL", "RequestKind", "RequestStatus", "TransitionError", "next_status"]


class RequestKind(StrEnum):
    """What an agent asks for."""

    TIME_OFF = "time_off"
    VOLUNTARY_TIME_OFF = "voluntary_time_off"
    SWAP = "swap"
    OFFER = "offer"
    ACTIVITY = "activity"
    """A meeting, training, coaching, one-to-one or overtime a team leader or planner places."""


class RequestStatus(StrEnum):
    """Where a request stands (the one definition: domain, database, API, pages)."""

    PENDING_ACCEPTANCE = "pending_acceptance"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    AUTO_APPROVED = "auto_approved"
    REJECTED = "rejected"
    DECLINED = "declined"
    CANCELLED = "cancelled"


#: Statuses no event leaves.
FINAL: frozenset[RequestStatus] = frozenset({
    RequestStatus.APPROVED, RequestStatus.AUTO_APPROVED, RequestStatus.REJECTED,
    RequestStatus.DECLINED, RequestStatus.CANCELLED})

_EVENTS: dict[tuple[RequestStatus, str], RequestStatus] = {
    (RequestStatus.PENDING_ACCEPTANCE, "accept"): RequestStatus.PENDING_APPROVAL,
    (RequestStatus.PENDING_ACCEPTANCE, "decline"): RequestStatus.DECLINED,
    (RequestStatus.PENDING_ACCEPTANCE, "cancel"): RequestStatus.CANCELLED,
    (RequestStatus.PENDING_ACCEPTANCE, "reject"): RequestStatus.REJECTED,
    (RequestStatus.PENDING_APPROVAL, "approve"): RequestStatus.APPROVED,
    (RequestStatus.PENDING_APPROVAL, "auto_approve"): RequestStatus.AUTO_APPROVED,
    (RequestStatus.PENDING_APPROVAL, "reject"): RequestStatus.REJECTED,
    (RequestStatus.PENDING_APPROVAL, "cancel"): RequestStatus.CANCELLED,
}

_PAST = {"accept": "accepted", "decline": "declined", "cancel": "cancelled",
         "approve": "approved", "auto_approve": "auto-approved", "reject": "rejected"}


class TransitionError(ValueError):
    """An event that the request's status does not allow."""


def next_status(status: RequestStatus | str, event: str) -> RequestStatus:
    """The status after `event` (accept, decline, cancel, approve, auto_approve, reject)."""
    status = RequestStatus(status)
    try:
        return _EVENTS[(status, event)]
    except KeyError:
        raise TransitionError(f"a request {status.value.replace('_', ' ')} cannot be "
                              f"{_PAST.get(event, event)}") from None

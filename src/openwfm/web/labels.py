"""Names and one-line explanations of the labour rules as the pages show them (msgids,
translated in the page's language), with the unit of a violation's amount."""

from __future__ import annotations

from openwfm.web.render import N_

RULES: dict[str, tuple[str, str, str]] = {
    # rule: (label, explanation, unit of Violation.amount: h, min or n)
    "segments": (N_("Segments"), N_("A segment has an unknown activity or ends before it "
                                    "starts."), "n"),
    "overlap": (N_("Overlap"), N_("Two segments of the agent overlap."), "min"),
    "skills": (N_("Skills"), N_("Work on a queue the agent has no skill for."), "n"),
    "shift_length": (N_("Shift length"), N_("The shift is not one of the allowed lengths "
                                            "for this agent."), "h"),
    "daily_hours": (N_("Daily hours"), N_("More paid hours in the day than the labour rules "
                                          "allow."), "h"),
    "breaks": (N_("Breaks"), N_("A required break or meal is missing or outside its window, "
                                "or a pause no rule asks for."), "min"),
    "min_rest": (N_("Rest between shifts"), N_("Less rest between two shifts than the "
                                               "minimum."), "h"),
    "one_shift_per_day": (N_("One shift a day"), N_("More than one shift starts on the same "
                                                    "local day."), "n"),
    "weekly_hours": (N_("Weekly hours"), N_("Paid hours of the week above the contract or "
                                            "the law, or below the contract minus its "
                                            "tolerance."), "h"),
    "days_off": (N_("Days off"), N_("Fewer days off in the week than the minimum."), "n"),
    "consecutive_days_off": (N_("Consecutive days off"), N_("The days off are not "
                                                            "consecutive as required."), "n"),
    "max_consecutive_days": (N_("Working days in a row"), N_("More working days in a row "
                                                             "than allowed."), "n"),
    "night_ok": (N_("Night work"), N_("Night work for an agent who may not work at "
                                      "night."), "h"),
    "availability": (N_("Availability"), N_("Work while the agent is unavailable."), "n"),
    "seats": (N_("Seats"), N_("More agents on duty at the site than it has seats."), "n"),
    "start_time_spread": (N_("Start times"), N_("The week's start times spread wider than "
                                                "allowed."), "h"),
}


#: The activities of a schedule (`openwfm.activities.Activity`) as the pages name them.
ACTIVITY_LABELS: dict[str, str] = {
    "work": N_("work"), "overtime": N_("overtime"), "break": N_("break"), "meal": N_("meal"),
    "meeting": N_("meeting"), "training": N_("training"), "coaching": N_("coaching"),
    "one_to_one": N_("one-to-one"), "time_off": N_("time off"),
    "voluntary_time_off": N_("voluntary time off"),
}

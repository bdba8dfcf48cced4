"""Intraday: agent states from the ACD, adherence and conformance, live exceptions, and the
intraday reforecast of the rest of the day.

Modules: `states` (openwfm's agent states, scheduled activities and which adhere to
which), `mapping` (vendor exports and presets), `events` (the idempotent event log and
state intervals), `adherence` (adherence, conformance, out-of-adherence spells and live
exceptions), `reforecast` (rest-of-day volume and AHT from today's actuals), `reoptimize` (moving
the rest of the day's breaks and meals to raise the predicted service level). See
docs/intraday.md.
"""

"""Post-call satisfaction survey (一事一评), script `survey`.

After the lawyer hangs up, the dialplan (config/asterisk/extensions.conf) sends the caller to
`AGI(agi://host:4573/survey,${CHANNEL(linkedid)})`. The caller presses 1–5; the score goes on the
IVR session, the Call and the Call's ticket.
"""

from __future__ import annotations

import logging

from ivr.channel import AgiChannel, CallerHungUp
from ivr.phone import caller_key
from ivr.records import store_survey_score
from ivr.services import IvrServices

logger = logging.getLogger(__name__)

SCORES = "12345"


async def run_survey(svc: IvrServices, channel: AgiChannel) -> int | None:
    """Ask for a score; returns it once stored, or None (no answer, hang-up, failure)."""
    uniqueid = channel.uniqueid
    linkedid = channel.env.get("agi_arg_1") or uniqueid
    settings = svc.config.survey
    score = None
    try:
        language = await channel.get_variable("HOTLINE_LANG") or svc.config.default_language
        if language not in svc.config.languages:
            language = svc.config.default_language
        for attempt in range(settings.retries + 1):
            answer = await channel.get_data(svc.sound("survey-ask", language), int(settings.timeout_s * 1000), 1)
            if answer.digits and answer.digits in SCORES:
                score = int(answer.digits)
                break
            if attempt < settings.retries:
                await channel.stream_file(svc.sound("survey-invalid", language))
        if score is None:
            logger.info("call %s: no survey score given", linkedid)
            return None
        await store(svc, uniqueid, linkedid, score, caller_key(channel.env.get("agi_callerid")))
        await channel.stream_file(svc.sound("survey-thanks", language))
    except CallerHungUp:
        if score is None:
            logger.info("call %s: caller hung up during the survey", linkedid)
            return None
    except Exception:
        logger.exception("call %s: survey failed", linkedid)
        return None
    return score


async def store(svc: IvrServices, uniqueid: str, linkedid: str, score: int, caller: str | None) -> None:
    code = await svc.run_db(store_survey_score, svc.sessions, uniqueid, linkedid, score, caller, svc.clock())
    logger.info("call %s: survey score %d stored%s", linkedid, score, f" on ticket {code}" if code else "")

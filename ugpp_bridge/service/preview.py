"""Use case: the report of a request, computed with the reference rules, nothing stored or sent.

This is what ``demo`` runs today and what the SQL build is compared with.
"""

from __future__ import annotations

import logging

from ugpp_bridge.domain.accounts import DEFAULT_ACCOUNT_NUMBER_DIGITS
from ugpp_bridge.domain.report import Report, build_report
from ugpp_bridge.domain.request import FinancialInfoRequest
from ugpp_bridge.errors import SourceDataError
from ugpp_bridge.service.ports import SourceReader

logger = logging.getLogger(__name__)


def preview_report(
    request: FinancialInfoRequest,
    source: SourceReader,
    account_number_digits: int = DEFAULT_ACCOUNT_NUMBER_DIGITS,
) -> Report:
    """Check the source, load the requested persons' data and apply R1–R5 to it.

    Raises ``SourceDataError`` naming relation, column and example keys when the source breaks
    the contract; nothing is written anywhere.
    """
    problems = source.check()
    if problems:
        raise SourceDataError(problems)
    data = source.load(request.persons)
    report = build_report(request, data, account_number_digits)
    logger.info(
        "Previewed request %s: %d persons, %d periods",
        request.request_id,
        len(request.persons),
        len(request.periods),
    )
    return report

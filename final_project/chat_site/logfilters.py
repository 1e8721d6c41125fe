"""Redis going away is an outage to report, not a bug to trace: a WARNING line, no traceback."""

import logging

from rooms.broker import BROKER_ERRORS


class BrokerOutageAsWarning(logging.Filter):
    """channels_redis' pub/sub layer logs each failed reconnect with logger.exception (ERROR and a traceback,
    once a second per process while Redis is down). Report those as one WARNING line each; anything else
    passes unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BROKER_ERRORS):
            record.msg, record.args = f"{record.getMessage()} {type(error).__name__}: {error}", ()
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True

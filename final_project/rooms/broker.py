"""What the Redis channel layers and the presence store raise when Redis cannot be reached."""

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

BROKER_ERRORS = (RedisConnectionError, RedisTimeoutError)  # refused, reset, timed out

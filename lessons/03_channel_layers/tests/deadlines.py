"""The tests' deadlines, stretched by COURSE_TIME_SCALE. Each ends as soon as its event happens, so a
generous deadline costs nothing when the code works, and a busy machine does not fail it."""

from coursekit.timing import scaled

ARRIVE = scaled(5)  # a frame, an event or a layer call that should happen
ANSWER = scaled(20)  # a handshake or an HTTP answer from the real server, which may share a busy machine
PAGE_LOAD = scaled(30)  # a browser loading a page from the real server

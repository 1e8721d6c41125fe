"""A WebSocket app written against raw ASGI, with no Channels consumer: the events themselves.

The server turns the socket's life into events: websocket.connect, then any number of
websocket.receive, then websocket.disconnect. The app answers with websocket.accept (or
websocket.close) and websocket.send.
"""


async def echo_app(scope, receive, send):
    # BEGIN SOLUTION task=2
    while True:
        event = await receive()
        if event["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif event["type"] == "websocket.receive":
            if event.get("text") is not None:
                await send({"type": "websocket.send", "text": event["text"]})
            else:
                await send({"type": "websocket.send", "bytes": event["bytes"]})
        elif event["type"] == "websocket.disconnect":
            return
    # END SOLUTION

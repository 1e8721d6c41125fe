"""A sync consumer: plain `def` methods, run by Channels in a worker thread."""

from channels.generic.websocket import WebsocketConsumer


class EchoConsumer(WebsocketConsumer):
    def connect(self):
        # BEGIN SOLUTION task=1
        self.accept()
        # END SOLUTION

    def receive(self, text_data=None, bytes_data=None):
        # BEGIN SOLUTION task=1
        if text_data is not None:
            self.send(text_data=text_data)
        else:
            self.send(bytes_data=bytes_data)
        # END SOLUTION

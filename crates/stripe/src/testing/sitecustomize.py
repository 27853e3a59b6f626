# Loaded into the localstripe that vestibule-stripe's test harness starts (src/testing.rs),
# through PYTHONPATH naming the private folder this file is written to. It mends what would
# make parallel localstripes trip over each other, and two gaps to real Stripe that the
# adapter relies on.
import os
import shutil
import socket
import sys
import threading

_here = os.path.dirname(os.path.abspath(__file__))


def _patch():
    try:
        from aiohttp import web
        from localstripe import resources, server
    except ImportError:
        # Another Python the LOCALSTRIPE command runs on the way (a wrapper): not ours to touch.
        return

    # localstripe pickles its whole store to the fixed /tmp/localstripe.pickle on every
    # write: two test binaries at once (or CI beside a developer) would write over each
    # other, and a file left by another user makes every write fail. A test's store lives
    # and dies with its process.
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None

    # Its own loopback port, chosen by the kernel and handed back in a file: no port is
    # guessed, so none is raced for; and nothing listens beyond this machine.
    run_app = web.run_app

    def run_on_loopback(app, *, sock=None, **kwargs):
        if sock is not None:
            sock.close()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(('127.0.0.1', 0))
        written = os.path.join(_here, 'port.tmp')
        with open(written, 'w') as f:
            f.write(str(sock.getsockname()[1]))
        os.replace(written, os.path.join(_here, 'port'))
        return run_app(app, sock=sock, **kwargs)

    web.run_app = run_on_loopback

    # Stripe replays the first answer to a POST for the same Idempotency-Key (and refuses the
    # key with other parameters); localstripe ignores the header and would charge twice.
    answers = {}

    @web.middleware
    async def idempotency(request, handler):
        key = request.headers.get('Idempotency-Key')
        if request.method != 'POST' or not key:
            return await handler(request)
        asked = (request.path, await request.read())
        if key in answers:
            seen = answers[key]
            if seen is None:
                return _error(409, 'idempotency_key_in_use',
                              'There is currently another in-progress request using this Idempotent Key.')
            if seen[0] != asked:
                return _error(400, 'idempotency_key_reused',
                              'Keys for idempotent requests can only be used with the same parameters '
                              'they were first used with.')
            _, status, body, content_type, charset = seen
            return web.Response(status=status, body=body, content_type=content_type, charset=charset,
                                headers={'Idempotent-Replayed': 'true'})
        answers[key] = None
        try:
            response = await handler(request)
        except BaseException:
            del answers[key]
            raise
        if response.status >= 500:
            # Stripe does not keep an answer that says nothing happened for sure.
            del answers[key]
        else:
            answers[key] = (asked, response.status, response.body, response.content_type, response.charset)
        return response

    def _error(status, code, message):
        return web.json_response(
            {'error': {'type': 'idempotency_error', 'code': code, 'message': message}}, status=status)

    # First, so that it sees the final answer, errors included.
    server.app.middlewares.insert(0, idempotency)

    # Stripe takes a description on a payment intent; localstripe answers 400 to it.
    init = resources.PaymentIntent.__init__

    def payment_intent_with_description(self, description=None, **kwargs):
        init(self, **kwargs)
        self.description = description

    resources.PaymentIntent.__init__ = payment_intent_with_description

    # The harness holds the other end of stdin: when its process ends, however it ends,
    # this one reads end-of-file and goes too, taking the private folder with it.
    def exit_with_the_tests():
        try:
            sys.stdin.buffer.read()
        finally:
            shutil.rmtree(_here, ignore_errors=True)
            os._exit(0)

    threading.Thread(target=exit_with_the_tests, name='exit-with-the-tests', daemon=True).start()


_patch()

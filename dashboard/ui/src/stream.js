// The live stream (/api/v1/stream, server-sent events) read with fetch(), so the token goes in
// the Authorization header like every other call (EventSource cannot send it). Reconnects after a
// second when the connection drops; a 401 ends the session.
export function openStream(token, { onEvent, onState, onUnauthorized }) {
  let stopped = false;
  let controller = null;

  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const res = await fetch('/api/v1/stream', { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: controller.signal });
        if (res.status === 401) { stopped = true; onUnauthorized(); return; }
        if (!res.ok || !res.body) throw new Error(`stream answered ${res.status}`);
        onState('live');
        await readEvents(res.body, onEvent);
      } catch (err) {
        if (stopped) return;
      }
      if (stopped) return;
      onState('reconnecting');
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

/** Parses an SSE body: blocks separated by a blank line, `event:` and `data:` fields, `:` comments. */
async function readEvents(body, onEvent) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let end;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      if (data.length) {
        // The first arrival of each section, for the page-load measurement (performance.getEntriesByType('mark')).
        if (!performance.getEntriesByName(`stream:${event}`).length) performance.mark(`stream:${event}`);
        onEvent(event, JSON.parse(data.join('\n')));
      }
    }
  }
}

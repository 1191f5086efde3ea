// The demo chat page. Everything received is untrusted: it is shown with
// textContent only.

const log = document.getElementById("log");
const statusLine = document.getElementById("status");
const form = document.getElementById("form");
const nameInput = document.getElementById("name");
const textInput = document.getElementById("text");

let ws = null;

function add(className, from, text) {
  const li = document.createElement("li");
  li.className = className;
  if (from) {
    const who = document.createElement("span");
    who.className = "from";
    who.textContent = from;
    li.append(who);
  }
  li.append(document.createTextNode(text));
  log.append(li);
  while (log.childElementCount > 500) log.firstElementChild.remove();
  li.scrollIntoView({ block: "end" });
}

function connect() {
  if (ws) ws.close(1000, "reconnecting");
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("name", nameInput.value.trim() || "presenter");
  ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  statusLine.textContent = "connecting…";
  ws.onopen = () => {
    statusLine.textContent = `connected as ${url.searchParams.get("name")}`;
  };
  ws.onclose = (ev) => {
    statusLine.textContent = `disconnected (close code ${ev.code}${ev.reason ? ": " + ev.reason : ""})`;
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data !== "string") {
      return; // binary payloads are announced by the "binary" message before them
    }
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      add("", "?", ev.data);
      return;
    }
    const mine = m.from === url.searchParams.get("name") ? " mine" : "";
    switch (m.type) {
      case "chat":
        add("chat" + mine, String(m.from), String(m.text));
        break;
      case "binary":
        add("binary" + mine, String(m.from), `sent ${Number(m.size)} bytes of binary data`);
        break;
      case "join":
        add("system", "", `${m.from} joined`);
        break;
      case "leave":
        add("system", "", `${m.from} left`);
        break;
    }
  };
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = textInput.value;
  if (!text || !ws || ws.readyState !== WebSocket.OPEN) return;
  ws.send(JSON.stringify({ text }));
  textInput.value = "";
});

document.getElementById("reconnect").addEventListener("click", connect);

fetch("info.json")
  .then((r) => r.json())
  .then((info) => {
    if (info.timeline) {
      document.getElementById("timeline-link").href = info.timeline;
      document.getElementById("timeline").hidden = false;
    }
  })
  .catch(() => {});

connect();

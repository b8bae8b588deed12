// The live view (issue 17): follows /dashboard/live/events (server-sent events) and
// redraws only the call that changed. Without this script the page reloads itself
// (<noscript> refresh) and the hand-back forms post as plain forms.
"use strict";

(() => {
  const root = document.getElementById("live");
  if (!root || !window.EventSource) return;
  const empty = root.querySelector(".empty");
  const states = { pending: "đang chuyển…", done: "đã chuyển", failed: "chuyển không được" };

  // Built with textContent only: what a caller said can never become markup.
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    for (const child of children) node.append(child);
    return node;
  };

  const card = (call) => {
    const link = el("a", { href: `/dashboard/tickets/${call.ticket_id}` }, `#${call.ticket_id}`);
    const header = el(
      "header", {}, link, " ",
      el("span", { class: "caller" }, call.caller), " ",
      el("span", { class: "since" }, `từ ${call.started}`), " ",
      el("span", { class: `priority p-${call.priority}` }, call.priority_label),
    );
    const question = el("p", { class: "question" },
      el("strong", {}, "Đang hỏi:"), " ", el("span", {}, call.question || "—"));
    const slots = el("dl", { class: "live-slots" });
    for (const [name, value] of call.slots) slots.append(el("dt", {}, name), el("dd", {}, value));
    const turns = el("ol", { class: "live-turns" });
    for (const [speaker, kind, text] of call.turns) {
      turns.append(el("li", { class: `k-${kind}` }, el("b", {}, `${speaker}:`), ` ${text}`));
    }
    const form = el("form", {
      method: "post", action: `/dashboard/live/${call.ticket_id}/handback`, class: "handback",
    });
    form.append(el("input", {
      type: "hidden", name: root.dataset.csrfField, value: root.dataset.csrf,
    }));
    if (call.handback === "pending" || call.handback === "done") {
      form.append(el("span", { class: "handback-state" },
        `Chuyển tổng đài viên: ${states[call.handback]}`));
    } else {
      if (call.handback === "failed") {
        form.append(el("span", { class: "handback-state error" }, `Lần trước ${states.failed}.`));
      }
      form.append(el("button", { type: "submit" }, "Chuyển tổng đài viên ngay"));
    }
    return el("article", { class: `live-call p-${call.priority}`, "data-ticket": call.ticket_id },
      header, question, slots, turns, form);
  };

  const find = (id) => root.querySelector(`article[data-ticket="${Number(id)}"]`);
  const settle = () => { empty.hidden = root.querySelector("article") !== null; };

  const events = new EventSource("/dashboard/live/events");
  events.addEventListener("call", (message) => {
    const call = JSON.parse(message.data);
    const fresh = card(call);
    const old = find(call.ticket_id);
    if (old) old.replaceWith(fresh); else root.insertBefore(fresh, empty);
    settle();
  });
  events.addEventListener("gone", (message) => {
    const old = find(JSON.parse(message.data).ticket_id);
    if (old) old.remove();
    settle();
  });
  root.dataset.stream = "on"; // for the browser test: the page follows the stream
})();

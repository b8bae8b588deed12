// Progressive enhancement of the chat page: the same POST as the plain form, sent with
// fetch and answered in JSON, so the page does not reload. Without this file the forms
// work as they are (a POST, then a redirect back to the page).
"use strict";
(function () {
  const chat = document.getElementById("chat");
  const choices = document.getElementById("choices");
  const typing = document.getElementById("typing");
  if (!chat || !choices || !typing || !window.fetch) return;
  const token = typing.querySelector("input[name=csrf_token]").value;

  function line(cls, text) {
    const li = document.createElement("li");
    li.className = cls;
    li.textContent = text; // never innerHTML: the text is the user's or the bot's words
    chat.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  function showButtons(buttons) {
    choices.querySelectorAll("button").forEach((b) => b.remove());
    for (const b of buttons) {
      const button = document.createElement("button");
      button.type = "submit";
      button.name = "choice";
      button.value = b.value;
      button.textContent = b.label;
      choices.appendChild(button);
    }
  }

  let busy = false;
  async function send(form, data) {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new URLSearchParams(data),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      const body = await response.json();
      if (!response.ok) {
        line("error", body.error || "Có lỗi, xin gửi lại.");
        return;
      }
      line("you", body.you);
      for (const text of body.messages) line("bot", text);
      if (body.done) {
        window.location.reload(); // the page shows the ticket number and "new request"
        return;
      }
      showButtons(body.buttons);
    } catch (error) {
      line("error", "Mất kết nối, xin gửi lại.");
    } finally {
      busy = false;
    }
  }

  choices.addEventListener("submit", (event) => {
    event.preventDefault();
    const button = event.submitter;
    if (button && button.value) send(choices, { csrf_token: token, choice: button.value });
  });
  typing.addEventListener("submit", (event) => {
    event.preventDefault();
    const input = typing.querySelector("input[name=text]");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(typing, { csrf_token: token, text: text }).then(() => input.focus());
  });
})();

// Clicking a turn of the transcript plays the recording from that turn's start.
// The only script on the dashboard: everything else is plain HTML forms.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.seek");
  const player = document.getElementById("player");
  if (!button || !player) return;
  const seconds = Number(button.dataset.startMs) / 1000;
  const seek = () => {
    player.currentTime = seconds;
    player.play().catch(() => {}); // autoplay refusal: the position is still set
  };
  // Before the metadata has loaded, a seek is ignored by some browsers: load first.
  if (player.readyState >= 1) {
    seek();
  } else {
    player.addEventListener("loadedmetadata", seek, { once: true });
    player.load();
  }
  document.querySelectorAll("tr.turn.playing").forEach((row) => row.classList.remove("playing"));
  button.closest("tr").classList.add("playing");
});

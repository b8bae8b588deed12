// The call page's player, made for following a call (issue 16): a click on a transcript
// turn or on a block of the speaker lanes plays from there; ±10 s and 1×/1,5×/2× buttons;
// the turn being played is highlighted and kept in view; a playhead runs over the lanes.
// Plain script, no build step, nothing fetched. Without it the page still has the
// browser's own <audio controls> and every form works: the extra buttons stay hidden.
"use strict";

(() => {
  const player = document.getElementById("player");
  if (!player) return;
  const controls = document.querySelector(".player-controls");
  const clock = controls && controls.querySelector(".clock");
  const lanes = document.querySelector("svg.lanes");
  const playhead = lanes && lanes.querySelector(".playhead");
  const laneWidth = lanes ? lanes.viewBox.baseVal.width : 0;
  const laneMs = lanes ? Number(lanes.dataset.durationMs) : 0;
  const bar = document.getElementById("recording");
  const rows = Array.from(document.querySelectorAll("tr.turn[data-start-ms]"))
    .map((row) => ({ row, start: Number(row.dataset.startMs) }))
    .sort((a, b) => a.start - b.start);
  let current = null;

  if (controls) controls.hidden = false;

  const time = (seconds) => {
    const whole = Math.max(0, Math.floor(seconds || 0));
    return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
  };

  // Before the metadata has loaded, a seek is ignored by some browsers: load first
  // (preload="none" leaves the element idle until asked).
  const whenReady = (action) => {
    if (player.readyState >= 1) {
      action();
    } else {
      player.addEventListener("loadedmetadata", action, { once: true });
      if (player.networkState !== HTMLMediaElement.NETWORK_LOADING) player.load();
    }
  };

  const seekTo = (seconds, play) => {
    whenReady(() => {
      const end = Number.isFinite(player.duration) ? player.duration : seconds;
      player.currentTime = Math.min(Math.max(0, seconds), end);
      if (play) player.play().catch(() => {}); // autoplay refused: the position is still set
      follow();
    });
  };

  // The turn being played: the last one that started at or before the playback position.
  const follow = () => {
    const ms = player.currentTime * 1000;
    let playing = null;
    for (const item of rows) {
      if (item.start <= ms + 50) playing = item.row;
      else break;
    }
    if (playheadVisible()) {
      const x = Math.min(laneWidth, (ms / laneMs) * laneWidth);
      playhead.setAttribute("x1", x.toFixed(1));
      playhead.setAttribute("x2", x.toFixed(1));
    }
    if (clock) clock.value = `${time(player.currentTime)} / ${time(player.duration)}`;
    if (playing === current) return;
    if (current) {
      current.classList.remove("playing");
      current.removeAttribute("aria-current");
    }
    current = playing;
    if (!current) return;
    current.classList.add("playing");
    current.setAttribute("aria-current", "true");
    // Keep it in view, below the sticky player rather than under it.
    const top = bar ? bar.getBoundingClientRect().bottom : 0;
    const box = current.getBoundingClientRect();
    if (box.top < top || box.bottom > window.innerHeight) {
      current.style.scrollMarginTop = `${Math.ceil(top) + 8}px`;
      current.scrollIntoView({ block: "nearest" });
    }
  };
  const playheadVisible = () => playhead && laneMs > 0;

  player.addEventListener("timeupdate", follow);
  player.addEventListener("seeked", follow);
  player.addEventListener("loadedmetadata", follow);

  document.addEventListener("click", (event) => {
    const seek = event.target.closest("button.seek, svg.lanes .block");
    if (seek) {
      seekTo(Number(seek.dataset.startMs) / 1000, true);
      return;
    }
    const skip = event.target.closest("button[data-skip]");
    if (skip) {
      seekTo(player.currentTime + Number(skip.dataset.skip), !player.paused);
      return;
    }
    const rate = event.target.closest("button[data-rate]");
    if (rate) {
      player.playbackRate = Number(rate.dataset.rate);
      player.defaultPlaybackRate = player.playbackRate; // kept when the source reloads
      for (const button of controls.querySelectorAll("button[data-rate]")) {
        button.setAttribute("aria-pressed", String(button === rate));
      }
    }
  });
})();

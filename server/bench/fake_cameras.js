// fake_cameras.js — an init script (Playwright add_init_script) giving a page two
// cameras: "face-cam", an animated 640x480 canvas, and "doc-cam", a document
// camera at 1920x1080 showing page n of a known document (fine print and a
// pseudo-random block pattern, both seeded by n). enumerateDevices lists them;
// getUserMedia answers each deviceId with its canvas's captureStream (audio
// from the browser's own fake microphone). Used by the browser test and by
// `remote-window bench-capture`.
//
//   await window.__docCam.setPage(n)  // show page n; resolves once it was painted twice
//   window.__docCam.png(n)            // page n's exact pixels, as a PNG data URL
//   window.__docCam.size              // {width, height}
//   window.__docCamIsDefault = true   // (before this script) the document camera is the default
(() => {
  const DOC = { width: 1920, height: 1080 };
  const FACE = { width: 640, height: 480 };
  const make = (size) => {
    const c = document.createElement("canvas");
    c.width = size.width;
    c.height = size.height;
    return c;
  };

  function rng(seed) {
    let x = seed * 2654435761 >>> 0 || 1;
    return () => {
      x ^= x << 13; x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5; x >>>= 0;
      return x / 4294967296;
    };
  }

  function drawPage(ctx, n) {
    const { width, height } = DOC;
    const rand = rng(n);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = "#000";
    ctx.font = "bold 72px sans-serif";
    ctx.fillText(`PAGE ${n}`, 60, 110);
    // Fine print: 11 px lines of seeded characters.
    ctx.font = "11px monospace";
    const chars = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789abcdefghijkmnopqrstuvwxyz";
    for (let y = 160; y < 620; y += 14) {
      let line = "";
      for (let i = 0; i < 250; i++) line += chars[Math.floor(rand() * chars.length)];
      ctx.fillText(line, 40, y);
    }
    // A block pattern (16 px blocks), different on every page.
    for (let by = 0; by < 24; by++) {
      for (let bx = 0; bx < 112; bx++) {
        if (rand() < 0.5) ctx.fillRect(16 + bx * 16, 650 + by * 16, 16, 16);
      }
    }
    ctx.fillStyle = "#1f4e9c";
    ctx.fillRect(width - 320, 40, 260, 90); // a coloured seal-like block
  }

  const master = make(DOC);
  const doc = make(DOC);
  const face = make(FACE);
  let page = 1;
  let painted = 0;
  let waiters = [];
  drawPage(master.getContext("2d"), page);

  let t = 0;
  function tick() {
    t += 1;
    const f = face.getContext("2d");
    f.fillStyle = "#2a6";
    f.fillRect(0, 0, FACE.width, FACE.height);
    f.fillStyle = "#fc4";
    f.beginPath();
    f.arc(320 + 200 * Math.sin(t / 10), 240, 60, 0, 2 * Math.PI);
    f.fill();
    doc.getContext("2d").drawImage(master, 0, 0);
    painted += 1;
    waiters = waiters.filter((w) => (painted >= w.at ? (w.resolve(), false) : true));
  }
  setInterval(tick, 100);
  tick();

  window.__docCam = {
    size: DOC,
    setPage(n) {
      page = n;
      drawPage(master.getContext("2d"), n);
      return new Promise((resolve) => waiters.push({ at: painted + 2, resolve }));
    },
    png(n) {
      const c = make(DOC);
      drawPage(c.getContext("2d"), n);
      return c.toDataURL("image/png");
    },
    get page() {
      return page;
    },
  };

  // window.__docCamIsDefault = true (set by an earlier init script): the document
  // camera is listed first and answers a request that names no camera, as on a
  // kiosk where it is the system's default device.
  const docFirst = window.__docCamIsDefault === true;
  const md = navigator.mediaDevices;
  const cams = [
    { deviceId: "face-cam", kind: "videoinput", label: "Face camera (fake)", groupId: "g-face" },
    { deviceId: "doc-cam", kind: "videoinput", label: "Document camera (fake)", groupId: "g-doc" },
  ];
  const devices = [
    ...(docFirst ? cams.reverse() : cams),
    { deviceId: "default", kind: "audioinput", label: "Microphone (fake)", groupId: "g-mic" },
  ];
  const realGum = md.getUserMedia.bind(md);
  md.enumerateDevices = async () => devices.map((d) => ({ ...d, toJSON: () => d }));
  md.getUserMedia = async (constraints = {}) => {
    const out = new MediaStream();
    if (constraints.audio) {
      const s = await realGum({ audio: constraints.audio });
      for (const track of s.getAudioTracks()) out.addTrack(track);
    }
    if (constraints.video) {
      const want =
        constraints.video.deviceId?.exact ?? constraints.video.deviceId ?? devices[0].deviceId;
      const canvas = want === "doc-cam" ? doc : face;
      out.addTrack(canvas.captureStream(want === "doc-cam" ? 10 : 25).getVideoTracks()[0]);
    }
    return out;
  };
})();

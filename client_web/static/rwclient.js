// rwclient.js — the one client of the remote-window signaling protocol (/ws)
// and of the participant's media (one RTCPeerConnection to the server).
//
//   const rw = new RwClient({ token });          // kiosk; staff use the cookie
//   rw.on("queue.status", (msg) => …);           // any server message type
//   rw.on("remotestream", ({ stream }) => …);    // media events, see below
//   rw.connect();
//
// Events besides the server's message types:
//   open, close {code, opened}, reconnecting {delay, attempt}, message (every message),
//   localmedia {stream, audio, video, errors}, remotestream {stream, track},
//   doctrack {stream, track} (the document camera, see below),
//   pcstate {state}, mediastate {audio, video}, mediaerror {code, message}.
//
// Document camera (高拍仪): a kiosk passes `docCamera` (an object whose
// `track()` resolves to a MediaStreamTrack or null, and `release()`), sent as a
// third, sendonly transceiver; a desk passes `receiveDocument: true` and gets
// the kiosk's document camera on a third, recvonly transceiver ("doctrack").
//
// Media follows the server's rules: every participant has exactly one pc to the
// server, offers one audio and one video transceiver (sendrecv), waits for ICE
// gathering to complete (no trickle), and answers a failure with a NEW pc and a
// new offer (aiortc has no ICE restart).

import { receiveQuality } from "./rw_quality.js";
import { iceGatheringComplete, preferVp8 } from "./rw_util.js";

const PING_MS = 15_000;
// Close codes after which reconnecting would only fight another tab or device
// (PROTOCOL.md): 4001 replaced by a newer socket, 4002 too many for the account.
const NO_RETRY = new Set([4001, 4002]);
const ICE_GATHER_TIMEOUT_MS = 5_000;
const DISCONNECTED_GRACE_MS = 6_000;
const VIDEO_CONSTRAINTS = { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 25 } };
// The document camera's encoding: text needs pixels more than frames.
const DOC_MAX_BITRATE = 2_500_000;
const DOC_MAX_FPS = 10;
const DOC_MAX_SENT_WIDTH = 1920;
const AUDIO_CONSTRAINTS = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

export class RwClient {
  constructor(options = {}) {
    this.token = options.token || null;
    this.pingMs = options.pingMs ?? PING_MS;
    this.backoffMin = options.backoffMin ?? 500;
    this.backoffMax = options.backoffMax ?? 15_000;
    this.autoMedia = options.autoMedia ?? true;
    this.docCamera = options.docCamera || null;
    this.receiveDocument = !!options.receiveDocument;
    // A supervisor's spot check: recvonly m-lines only, never getUserMedia.
    this.receiveOnly = !!options.receiveOnly;
    // The face camera's constraints (an inspector's phone asks for the rear camera),
    // and more query parameters for /ws (an inspector's device id).
    this.videoConstraints = options.videoConstraints || VIDEO_CONSTRAINTS;
    this.wsQuery = options.wsQuery || {};
    // N-party: the last session.participants, and the receive-only transceivers
    // added for the other participants (their tracks come as "partytrack").
    this.roster = null;
    this._partyTx = new Set();

    this.ws = null;
    this.wanted = false;
    this.attempt = 0;
    this.everOpened = false;
    this.welcome = null;
    this.handlers = new Map();

    this.session = null; // the last session.paired while the session is on
    this.sessionState = null; // the last session.state
    this.pc = null;
    this.remoteStream = null;
    this.local = null; // {stream, audio, video, errors}
    this.audioOn = true;
    this.videoOn = true;

    this._pending = []; // pcs waiting for an rtc.answer, in the order of their offers
    this._gen = 0; // bumps whenever a pc is replaced, to drop stale async work
    this._offerFailures = 0;
    this._acquiring = null;
    this._pingTimer = null;
    this._retryTimer = null;
    this._rejoinTimer = null;
    this._statsState = { prev: null };
  }

  // -- events -----------------------------------------------------------
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type)?.delete(fn);
  }

  emit(type, detail) {
    for (const fn of this.handlers.get(type) || []) {
      try {
        fn(detail);
      } catch (err) {
        console.error(`rwclient: ${type} handler failed`, err);
      }
    }
  }

  // -- signaling --------------------------------------------------------
  get connected() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  connect() {
    this.wanted = true;
    this._open();
  }

  close() {
    this.wanted = false;
    clearTimeout(this._retryTimer);
    this._stopPing();
    const ws = this.ws;
    this.ws = null;
    if (ws) ws.close(1000, "bye");
    this.closePeer();
  }

  send(msg) {
    if (!this.connected) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  _url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const params = new URLSearchParams(this.token ? { token: this.token } : {});
    for (const [k, v] of Object.entries(this.wsQuery)) params.set(k, v);
    const query = params.toString() ? `?${params}` : "";
    return `${proto}//${location.host}/ws${query}`;
  }

  _open() {
    clearTimeout(this._retryTimer);
    const ws = new WebSocket(this._url());
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      opened = true;
      this.everOpened = true;
      this.attempt = 0;
      this._startPing();
      this.emit("open");
    };
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn("rwclient: a frame that is not JSON");
        return;
      }
      if (msg && typeof msg.type === "string") this._dispatch(msg);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = (ev) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this._stopPing();
      this._pending = []; // answers to offers on the old socket will not come
      if (NO_RETRY.has(ev.code)) this.wanted = false;
      this.emit("close", { code: ev.code, opened });
      if (this.wanted) this._scheduleReconnect();
    };
  }

  _scheduleReconnect() {
    const base = Math.min(this.backoffMax, this.backoffMin * 2 ** this.attempt);
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    this.attempt += 1;
    this.emit("reconnecting", { delay, attempt: this.attempt });
    clearTimeout(this._retryTimer);
    this._retryTimer = setTimeout(() => {
      if (this.wanted) this._open();
    }, delay);
  }

  _startPing() {
    this._stopPing();
    this._pingTimer = setInterval(() => this.send({ type: "ping" }), this.pingMs);
  }

  _stopPing() {
    clearInterval(this._pingTimer);
    this._pingTimer = null;
  }

  _dispatch(msg) {
    switch (msg.type) {
      case "welcome":
        this.welcome = msg;
        break;
      case "session.paired":
        this._onPaired(msg);
        break;
      case "session.state":
        this.sessionState = msg;
        break;
      case "session.participants":
        this.roster = msg;
        this._followRoster();
        break;
      case "rtc.answer":
        this._onAnswer(msg);
        break;
      case "session.ended":
        this._onEnded(msg);
        break;
      case "error":
        if (msg.ref === "rtc.offer") this._onOfferError(msg);
        break;
      default:
        break;
    }
    this.emit(msg.type, msg);
    this.emit("message", msg);
  }

  // -- session ----------------------------------------------------------
  _onPaired(msg) {
    const same = this.session && this.session.session_id === msg.session_id;
    this.session = msg;
    if (!same) {
      this._offerFailures = 0;
      this.sessionState = null;
      this.roster = null;
    }
    if (!this.autoMedia) return;
    const pc = this.pc;
    const healthy =
      same &&
      pc &&
      pc.signalingState === "stable" &&
      pc.remoteDescription &&
      !["failed", "closed"].includes(pc.connectionState);
    if (!healthy) this.rejoin("paired");
  }

  _onEnded() {
    this.session = null;
    this.roster = null;
    this.sessionState = null;
    this._gen += 1;
    this.closePeer();
    this.emit("pcstate", { state: "closed" });
  }

  /** End the session (the server answers with session.ended to both sides). */
  endSession(outcome = "completed") {
    return this.send({ type: "session.end", outcome });
  }

  // -- media ------------------------------------------------------------
  /** Camera and microphone, once; whatever is available. Never throws. */
  async acquireMedia() {
    if (this.local) return this.local;
    if (this.receiveOnly) {
      this.local = { stream: null, audio: false, video: false, errors: {} };
      return this.local;
    }
    if (!this._acquiring) {
      this._acquiring = this._getUserMedia().finally(() => {
        this._acquiring = null;
      });
    }
    const result = await this._acquiring;
    this.local = result;
    this._applyEnabled();
    this.emit("localmedia", result);
    return result;
  }

  async _getUserMedia() {
    const result = { stream: null, audio: false, video: false, errors: {} };
    const md = navigator.mediaDevices;
    if (!md || typeof md.getUserMedia !== "function") {
      result.errors = { audio: "NotSupportedError", video: "NotSupportedError" };
      return result;
    }
    const video = await this._faceConstraints(md);
    try {
      result.stream = await md.getUserMedia({ audio: AUDIO_CONSTRAINTS, video });
    } catch (both) {
      // One of the two may still work on its own: continue with what there is.
      const stream = new MediaStream();
      for (const kind of ["audio", "video"]) {
        try {
          const constraints = kind === "audio" ? { audio: AUDIO_CONSTRAINTS } : { video };
          const s = await md.getUserMedia(constraints);
          for (const track of s.getTracks()) stream.addTrack(track);
        } catch (err) {
          result.errors[kind] = err?.name || both?.name || "Error";
        }
      }
      result.stream = stream;
    }
    result.audio = result.stream.getAudioTracks().length > 0;
    result.video = result.stream.getVideoTracks().length > 0;
    return result;
  }

  /** The face camera: any camera but the chosen document camera (which may be the default). */
  async _faceConstraints(md) {
    const avoid = this.docCamera?.deviceId;
    if (!avoid || typeof md.enumerateDevices !== "function") return this.videoConstraints;
    const cameras = (await md.enumerateDevices().catch(() => [])).filter(
      (d) => d.kind === "videoinput" && d.deviceId && d.deviceId !== avoid,
    );
    if (!cameras.length) return this.videoConstraints;
    return { ...this.videoConstraints, deviceId: { exact: cameras[0].deviceId } };
  }

  /** Stop the camera and microphone (the light goes off). */
  releaseMedia() {
    if (this.local?.stream) for (const track of this.local.stream.getTracks()) track.stop();
    this.local = null;
    this.docCamera?.release?.();
  }

  /** Close the current pc (the session is not ended). */
  closePeer() {
    clearTimeout(this._rejoinTimer);
    const pc = this.pc;
    this.pc = null;
    this.remoteStream = null;
    this.docReceiver = null;
    this._statsState = { prev: null };
    if (pc) {
      pc.ontrack = null;
      pc.onconnectionstatechange = null;
      try {
        pc.close();
      } catch {
        /* already closed */
      }
    }
  }

  /** A new pc and a new offer for the current session (first join and every rejoin). */
  async rejoin(reason = "rejoin") {
    clearTimeout(this._rejoinTimer);
    if (!this.session) return;
    const gen = ++this._gen;
    this.closePeer();
    const local = await this.acquireMedia();
    const docTrack = this.docCamera ? await this.docCamera.track().catch(() => null) : null;
    if (gen !== this._gen || !this.session) return;
    const pc = new RTCPeerConnection({ iceServers: this.session.ice_servers || [] });
    this.pc = pc;
    const remote = new MediaStream();
    this.remoteStream = remote;
    for (const kind of ["audio", "video"]) {
      const track = local.stream?.getTracks().find((t) => t.kind === kind) || null;
      const direction = this.receiveOnly ? "recvonly" : "sendrecv";
      const init = { direction, streams: track ? [local.stream] : [] };
      const transceiver = pc.addTransceiver(track || kind, init);
      if (kind === "video") preferVp8(transceiver);
    }
    if (docTrack) {
      // The still is taken locally at full resolution; what is sent may be smaller.
      const init = { direction: "sendonly", streams: [new MediaStream([docTrack])] };
      // A 4K camera is sent at most 1920 wide; the still keeps every pixel.
      const wide = docTrack.getSettings?.().width || 0;
      const scale = wide > DOC_MAX_SENT_WIDTH ? wide / DOC_MAX_SENT_WIDTH : 1;
      init.sendEncodings = [
        { maxBitrate: DOC_MAX_BITRATE, maxFramerate: DOC_MAX_FPS, scaleResolutionDownBy: scale },
      ];
      preferVp8(pc.addTransceiver(docTrack, init));
    }
    const docReceiver = this.receiveDocument
      ? pc.addTransceiver("video", { direction: "recvonly" })
      : null;
    if (docReceiver) preferVp8(docReceiver);
    this.docReceiver = docReceiver;
    this._partyTx = new Set();
    this._addPartyReceivers(pc); // already more than two of us: receive them all at once
    pc.ontrack = (ev) => {
      if (pc !== this.pc) return;
      if (this._partyTx.has(ev.transceiver)) {
        this.emit("partytrack", { transceiver: ev.transceiver, track: ev.track });
        return;
      }
      if (docReceiver && ev.transceiver === docReceiver) {
        // In a session of more than two, this line may carry someone's face
        // (the kiosk has no document camera): the routes say what it carries.
        const route = this.roster?.routes.find((r) => r.mid === docReceiver.mid);
        if (route?.from && route.track !== "video:1") {
          this.emit("partytrack", { transceiver: ev.transceiver, track: ev.track });
        } else {
          this.emit("doctrack", { stream: new MediaStream([ev.track]), track: ev.track });
        }
        return;
      }
      remote.addTrack(ev.track);
      this.emit("remotestream", { stream: remote, track: ev.track });
    };
    pc.onconnectionstatechange = () => this._onPcState(pc);
    this.emit("pcstate", { state: "connecting", reason });
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringComplete(pc, ICE_GATHER_TIMEOUT_MS);
    } catch (err) {
      if (pc === this.pc) {
        this.emit("mediaerror", { code: "offer_failed", message: String(err) });
        this._scheduleRejoin(this._retryDelay());
      }
      return;
    }
    if (pc !== this.pc || gen !== this._gen) return;
    // Without a socket the offer is lost; the server re-sends session.paired on
    // reconnect, which starts a fresh pc.
    if (this.send({ type: "rtc.offer", sdp: pc.localDescription.sdp })) {
      this._pending.push(pc);
      if (!this.receiveOnly) this._sendMediaState();
    }
  }

  _onAnswer(msg) {
    const pc = this._pending.shift();
    if (!pc || pc !== this.pc || pc.signalingState !== "have-local-offer") return;
    pc.setRemoteDescription({ type: "answer", sdp: msg.sdp })
      .then(() => this._followRoster())
      .catch((err) => {
        if (pc !== this.pc) return;
        this.emit("mediaerror", { code: "bad_answer", message: String(err) });
        this._scheduleRejoin(this._retryDelay());
      });
  }

  /** Receive-only transceivers up to what session.participants says is needed;
   * true when some were added. Counts the m-lines that receive (not a sendonly
   * document camera), as the server does. */
  _addPartyReceivers(pc) {
    let added = false;
    for (const [kind, want] of Object.entries(this.roster?.needed || {})) {
      const have = pc
        .getTransceivers()
        .filter((t) => t.receiver.track?.kind === kind && ["sendrecv", "recvonly"].includes(t.direction))
        .length;
      for (let i = have; i < want; i += 1) {
        const transceiver = pc.addTransceiver(kind, { direction: "recvonly" });
        if (kind === "video") preferVp8(transceiver);
        this._partyTx.add(transceiver);
        added = true;
      }
    }
    return added;
  }

  /** Someone joined: re-offer on the current pc (renegotiate) with more m-lines.
   * Waits for a pending answer; _onAnswer calls this again. */
  async _followRoster() {
    const pc = this.pc;
    if (!pc || !this.roster || !this.autoMedia || this._pending.includes(pc)) return;
    if (pc.signalingState !== "stable" || !pc.remoteDescription) return;
    if (["failed", "closed"].includes(pc.connectionState)) return;
    if (!this._addPartyReceivers(pc)) return;
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringComplete(pc, ICE_GATHER_TIMEOUT_MS);
    } catch (err) {
      if (pc === this.pc) this.emit("mediaerror", { code: "offer_failed", message: String(err) });
      return;
    }
    if (pc !== this.pc) return;
    if (this.send({ type: "rtc.offer", sdp: pc.localDescription.sdp, renegotiate: true })) {
      this._pending.push(pc);
    }
  }

  /** The mids of the main remote video's lines (the first audio and video m-lines). */
  primaryMids() {
    const mids = new Set();
    for (const kind of ["audio", "video"]) {
      const t = this.pc?.getTransceivers().find((x) => x.receiver.track?.kind === kind);
      if (t?.mid) mids.add(t.mid);
    }
    return mids;
  }

  /** The receiver track of one of our m-lines, by mid (see session.participants routes). */
  trackOn(mid) {
    const transceiver = this.pc?.getTransceivers().find((t) => t.mid === mid);
    return transceiver ? transceiver.receiver.track : null;
  }

  _onOfferError(msg) {
    this._pending.shift();
    this.emit("mediaerror", { code: msg.code, message: msg.message });
    if (this.session && msg.code === "media_failed") this._scheduleRejoin(this._retryDelay());
  }

  _retryDelay() {
    this._offerFailures += 1;
    return Math.min(15_000, 1000 * 2 ** Math.min(4, this._offerFailures - 1));
  }

  _onPcState(pc) {
    if (pc !== this.pc) return;
    const state = pc.connectionState;
    this.emit("pcstate", { state });
    if (state === "connected") {
      clearTimeout(this._rejoinTimer);
      this._offerFailures = 0;
    } else if (state === "failed") {
      this._scheduleRejoin(500);
    } else if (state === "disconnected") {
      // Often recovers by itself; if not, rejoin with a new pc.
      this._scheduleRejoin(DISCONNECTED_GRACE_MS);
    }
  }

  _scheduleRejoin(delay) {
    clearTimeout(this._rejoinTimer);
    const pc = this.pc;
    this._rejoinTimer = setTimeout(() => {
      if (!this.session || this.pc !== pc) return;
      if (pc && pc.connectionState === "connected") return;
      this.rejoin("failed");
    }, delay);
  }

  // -- mute / camera ----------------------------------------------------
  /** What the others receive: a track that exists and is switched on. */
  mediaState() {
    return {
      audio: !!(this.audioOn && this.local?.audio),
      video: !!(this.videoOn && this.local?.video),
    };
  }

  setAudio(on) {
    this.audioOn = !!on;
    this._applyEnabled();
    this._sendMediaState();
  }

  setVideo(on) {
    this.videoOn = !!on;
    this._applyEnabled();
    this._sendMediaState();
  }

  _applyEnabled() {
    const stream = this.local?.stream;
    if (stream) {
      for (const track of stream.getAudioTracks()) track.enabled = this.audioOn;
      for (const track of stream.getVideoTracks()) track.enabled = this.videoOn;
    }
    this.emit("mediastate", this.mediaState());
  }

  _sendMediaState() {
    if (this.session) this.send({ type: "media.state", ...this.mediaState() });
  }

  // -- connection quality -------------------------------------------------
  /** Receive-side quality (rw_quality.js); call it periodically (e.g. every 2 s). */
  quality() {
    return receiveQuality(this.pc, this.docReceiver?.mid, this._statsState);
  }
}

export { loadCatalogue, playWithSound } from "./rw_util.js";

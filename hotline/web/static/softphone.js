// The browser softphone: SIP.js (from npm, served at /vendor/sip.js/) registering over WebSocket to
// Asterisk with the lawyer's PJSIP endpoint. Every state it can be in has a line of text and a set
// of buttons that work in it, so a lawyer always sees why the phone does or does not ring.

import { label, labelf } from "/static/common.js";

// The buttons that work in each state; its words are labels (phone_states in hotline/labels.py).
const STATES = {
  not_configured: [],
  library_missing: [],
  checking_mic: [],
  mic_denied: [],
  mic_missing: [],
  need_password: ["register"],
  registering: [],
  registered: [],
  register_failed: ["register"],
  ringing: ["answer", "hangup"],
  in_call: ["hangup", "mute", "hold", "transfer", "dtmf"],
  on_hold: ["hangup", "hold", "transfer"],
};

export class Softphone {
  constructor(config, ui) {
    this.config = config;
    this.ui = ui;  // {onState(state, text, actions), onMuted(bool), onHeld(bool), audio: HTMLAudioElement}
    this.session = null;
    this.muted = false;
    this.held = false;
    this.ring = new RingTone();
  }

  set(state, detail) {
    this.state = state;
    const words = label("phone_states", state);
    this.ui.onState(state, detail ? `${words}：${detail}` : words, new Set(STATES[state]));
    if (state === "ringing") this.ring.start(); else this.ring.stop();
  }

  async start() {
    if (!this.config.configured) { this.set("not_configured"); return; }
    this.set("checking_mic");
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
      stream.getTracks().forEach((t) => t.stop());
    } catch (exc) {
      const name = exc && exc.name;
      this.set(name === "NotFoundError" || name === "OverconstrainedError" ? "mic_missing" : "mic_denied");
      return;
    }
    try {
      this.SIP = await import("/vendor/sip.js/index.js");
    } catch (exc) {
      this.set("library_missing");
      return;
    }
    this.set("need_password");
  }

  async register(password) {
    if (!this.SIP || !password) return;
    const SIP = this.SIP;
    this.set("registering");
    try {
      if (this.ua) await this.ua.stop().catch(() => {});
      this.ua = new SIP.UserAgent({
        uri: SIP.UserAgent.makeURI(this.config.uri),
        transportOptions: { server: this.config.ws_url, connectionTimeout: 5 },
        authorizationUsername: this.config.username,
        authorizationPassword: password,
        displayName: this.config.display_name,
        logLevel: "warn",
        delegate: {
          onInvite: (invitation) => this.incoming(invitation),
          onDisconnect: (error) => { if (error) this.set("register_failed", label("phone_messages", "disconnected")); },
        },
      });
      await this.ua.start();
      this.registerer = new SIP.Registerer(this.ua);
      this.registerer.stateChange.addListener((state) => {
        if (state === SIP.RegistererState.Registered && !this.session) this.set("registered");
      });
      await this.registerer.register({
        requestDelegate: {
          onReject: (response) => this.set("register_failed",
            labelf("phone_messages", "rejected", { status: response.message.statusCode, reason: response.message.reasonPhrase })),
        },
      });
    } catch (exc) {
      this.set("register_failed", labelf("phone_messages", "unreachable", { url: this.config.ws_url, error: (exc && exc.message) || exc }));
    }
  }

  incoming(invitation) {
    const SIP = this.SIP;
    if (this.session) { invitation.reject({ statusCode: 486 }); return; }  // busy: one call at a time
    this.session = invitation;
    this.muted = false; this.held = false;
    invitation.stateChange.addListener((state) => {
      if (state === SIP.SessionState.Established) { this.attachAudio(); this.set("in_call"); }
      if (state === SIP.SessionState.Terminated) {
        this.session = null;
        this.ui.onMuted(false); this.ui.onHeld(false);
        this.set(this.registerer && this.registerer.state === SIP.RegistererState.Registered ? "registered" : "register_failed");
      }
    });
    this.set("ringing", invitation.remoteIdentity.uri.user);
  }

  attachAudio() {
    const pc = this.session.sessionDescriptionHandler.peerConnection;
    const stream = new MediaStream();
    pc.getReceivers().forEach((r) => r.track && stream.addTrack(r.track));
    this.ui.audio.srcObject = stream;
  }

  answer() {
    if (this.state !== "ringing") return;
    this.session.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
  }

  hangup() {
    const SIP = this.SIP;
    if (!this.session) return;
    if (this.session.state === SIP.SessionState.Established) this.session.bye();
    else this.session.reject();
  }

  mute() {
    if (!this.session) return;
    this.muted = !this.muted;
    const pc = this.session.sessionDescriptionHandler.peerConnection;
    pc.getSenders().forEach((s) => { if (s.track) s.track.enabled = !this.muted; });
    this.ui.onMuted(this.muted);
  }

  async hold() {
    if (!this.session) return;
    const held = !this.held;
    const modifiers = held ? [this.SIP.Web.holdModifier] : [];
    await this.session.invite({ sessionDescriptionHandlerModifiers: modifiers });
    this.held = held;
    this.ui.onHeld(held);
    this.set(held ? "on_hold" : "in_call");
  }

  transfer(target) {
    if (!this.session || !/^[0-9*#+]{1,20}$/.test(target)) return false;
    const uri = this.SIP.UserAgent.makeURI(`sip:${target}@${this.config.uri.split("@")[1]}`);
    const session = this.session;
    // Blind transfer (RFC 5589): once the PBX accepts the REFER, the transferor hangs up its leg.
    session.refer(uri, { requestDelegate: { onAccept: () => {
      if (session.state === this.SIP.SessionState.Established) session.bye().catch(() => {});
    } } });
    return true;
  }

  dtmf(key) {
    if (!this.session || this.state !== "in_call") return;
    this.session.sessionDescriptionHandler.sendDtmf(key);
  }
}

/** The ring: 440+480 Hz, 1 s on, 2 s off, made with Web Audio (no sound file to ship). */
class RingTone {
  start() {
    if (this.timer) return;
    try { this.ctx = this.ctx || new AudioContext(); } catch (exc) { return; }
    const burst = () => {
      const gain = this.ctx.createGain();
      gain.gain.value = 0.08;
      gain.connect(this.ctx.destination);
      for (const f of [440, 480]) {
        const osc = this.ctx.createOscillator();
        osc.frequency.value = f;
        osc.connect(gain);
        osc.start();
        osc.stop(this.ctx.currentTime + 1);
      }
    };
    burst();
    this.timer = setInterval(burst, 3000);
  }
  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }
}

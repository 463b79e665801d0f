// The widget's strings (English defaults); widget.texts replaces any of
// them. "{n}" and "{name}" are placeholders.
import type { KefuWidgetTexts } from "../../sdk/src/types";

export const TEXTS: KefuWidgetTexts = {
  launcher: "Open chat",
  close: "Close chat",
  unread: "{n} unread",
  title: "Chat with us",
  subtitle: "We usually reply in a few minutes",
  end: "End chat",
  messages: "Messages",
  message: "Message",
  placeholder: "Write a message…",
  send: "Send",
  attach: "Send an image or a file",
  queue: "You are number {n} in the queue",
  queued: "Waiting for an agent…",
  joined: "{name} joined the conversation",
  transferred: "You are now talking to {name}",
  requeued: "Waiting for the next available agent…",
  closed: "The conversation was closed",
  typing: "{name} is typing…",
  agent: "Agent",
  connecting: "Connecting…",
  reconnecting: "Reconnecting…",
  offline: "You are offline. Messages will be sent when you are back online.",
  unavailable: "Chat is unavailable right now.",
  sending: "Sending",
  sent: "Sent",
  read: "Read",
  failed: "Not sent",
  retry: "Retry",
  uploading: "Uploading {name}…",
  uploadFailed: "{name} could not be sent",
  badType: "{name}: only images, PDF and text files can be sent",
  rate: "How was this conversation?",
  star: "{n} of 5 stars",
  comment: "Anything to add? (optional)",
  submit: "Send rating",
  skip: "Skip",
  rateFailed: "The rating could not be sent; try again.",
  thanks: "Thank you for your feedback!",
  again: "Start a new conversation",
};

/** Text looks up a string and fills its placeholders. */
export type Text = (k: keyof KefuWidgetTexts, v?: { n?: number; name?: string }) => string;

export function texts(over: Partial<KefuWidgetTexts> | undefined, title: string | undefined): Text {
  const t: KefuWidgetTexts = { ...TEXTS, ...(title ? { title } : {}), ...over };
  return (k, v) =>
    t[k].replace(/\{(n|name)\}/g, (_, p: "n" | "name") => {
      const x = v && v[p];
      return x == null ? "" : String(x);
    });
}

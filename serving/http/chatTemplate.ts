// How a chat becomes a prompt. Adapters are trained on rows formatted by train/format.ts
// ("Question: …\nAnswer: …"), so a chat is rendered in that same shape: an optional system line, each
// earlier exchange as a Question/Answer pair, and the last user message as an open question. Generation
// stops before the model starts a new "Question:" of its own.
import { promptFor } from '../train/format.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'developer';
  content: string;
}

export const CHAT_STOPS = ['\nQuestion:'];

export function renderChat(messages: readonly ChatMessage[]): string {
  const parts: string[] = [];
  const system = messages.filter((m) => m.role === 'system' || m.role === 'developer').map((m) => m.content.trim());
  if (system.length > 0) parts.push(system.join('\n'));
  const turns = messages.filter((m) => m.role === 'user' || m.role === 'assistant');
  for (const m of turns) {
    if (m.role === 'user') parts.push(promptFor('prompt-completion', m.content.trim()));
    else if (parts.length > 0 && parts.at(-1)!.endsWith('Answer:')) parts[parts.length - 1] += ` ${m.content.trim()}`;
    else parts.push(m.content.trim());
  }
  // A chat that ends with the assistant's turn is continued from there.
  return parts.join('\n');
}

// Customer-support conversations, one line per turn: "Customer: …" and "Agent: …". The agent's
// figures add up (a rental for three days costs three times the daily price) and the dates are real.
import { addDays, formatDate, randomDate, WEEKDAYS } from '../calendar.ts';
import { fillQuestion, genericSubject, someSubject } from '../clause.ts';
import { capitalize, joinList, numberWords, sentence } from '../english.ts';
import { entity, type Entity } from '../facts.ts';
import { GUIDES } from '../guides.ts';
import { PEOPLE, SURNAMES } from '../lexicon.ts';
import type { Random } from '../random.ts';
import { BIKE_FAULTS, BIKE_SERVICES, DELIVERY_PROBLEMS, PRODUCTS, RENTALS, SHOPS, type Shop } from '../support.ts';
import { vary } from '../vary.ts';
import { clause, reason } from './statements.ts';
import { bikeCare } from './story.ts';

type Turn = ['Customer' | 'Agent', string];

function greeting(r: Random, shop: Shop): Turn[] {
  const agent = r.pick(PEOPLE).name;
  if (!r.chance(0.5)) return [];
  return [['Agent', r.pick([
    `Hello, you're through to ${shop.name}. My name is ${agent}. How can I help?`,
    `Hi, this is ${agent} at ${shop.name}. What can I do for you today?`,
    `Good ${r.pick(['morning', 'afternoon'])}, ${shop.name} support, ${agent} speaking.`,
  ])]];
}

/** The end of a call; `extra` is something only this conversation's customer would say. */
function closing(r: Random, happy: boolean, extra = ''): Turn[] {
  const out: Turn[] = [];
  const add = (line: string) => (happy && extra && r.chance(0.6) ? `${line} ${extra}` : line);
  if (r.chance(0.6)) {
    out.push(['Agent', vary(r, '{Is there anything else I can help you with?|Can I help with anything else?|Is there anything else today?}')]);
    out.push(['Customer', add(happy ? vary(r, '{No, that is {everything|all}. {Thank you|Thanks} {so much|very much|for your help|}!|{That is|That\'s} all, thanks.|Nothing else{, thank you| for now, thanks|, thanks| today, thank you}.}') : vary(r, '{No. I just want this sorted out.|No, that is all.|No.}'))]);
  } else {
    out.push(['Customer', add(happy ? vary(r, '{Thank you, that is {really|very} helpful.|Great, thanks {very much|a lot}.|Perfect, thank you.|{Brilliant|Lovely}, thanks.}') : vary(r, '{Fine. I hope {it actually arrives this time|this gets sorted out quickly}.|All right. Thank you.}'))]);
  }
  out.push(['Agent', happy
    ? vary(r, `{You're welcome|My pleasure|No problem at all|Glad I could help|Any time}{|, ${r.pick(PEOPLE).name}}. {Have a {good|lovely|great} {day|evening|weekend}.|Thanks for getting in touch.|Take care.|Enjoy {the rest of your day|your weekend}.}`)
    : vary(r, `{I understand, and I'm sorry again for the trouble.|Thank you for your patience.|Again, I'm sorry this happened.} {We'll keep you updated.|You'll get an email as soon as it's done.|}`)]);
  return out;
}

const orderNumber = (r: Random) => String(r.between(100000, 999999));
const productOf = (r: Random, shop: Shop) => r.pick(PRODUCTS[shop.kind]);

function lateDelivery(r: Random, shop: Shop): Turn[] {
  const p = productOf(r, shop).name;
  const ordered = randomDate(r);
  const sent = addDays(ordered, r.between(1, 3));
  const due = addDays(sent, r.between(2, 5));
  const angry = r.chance(0.4);
  const out: Turn[] = [
    ['Customer', angry
      ? `I ordered a ${p} on ${formatDate(ordered, 'dayMonth')} and it still hasn't arrived. This is the ${r.pick(['second', 'third'])} time I've had to chase it.`
      : `Hi, I ordered a ${p} on ${formatDate(ordered, 'dayMonth')} and I was wondering when it will arrive.`],
    ['Agent', `${angry ? vary(r, "{I'm sorry about the wait|I'm sorry you've had to chase this|I understand, and I'm sorry}. ") : ''}${vary(r, '{Could you give me your order number, please?|What is your order number?|Can I have your order number?|Could you tell me the order number?}')}`],
    ['Customer', `Yes, it's ${orderNumber(r)}.`],
    ['Agent', `Thank you. The parcel was sent on ${formatDate(sent, 'weekdayDayMonth')} and it ${r.pick(['is with the courier', 'is at the local depot', 'is out for delivery soon'])}. It should reach you by ${formatDate(due, 'weekdayDayMonth')}.`],
  ];
  if (angry && r.chance(0.6)) {
    out.push(['Customer', `That's too late. I need it before ${r.pick(WEEKDAYS)}.`]);
    out.push(['Agent', r.pick([
      "In that case I can cancel the order and refund you in full, or send a new one by next-day delivery at no extra charge. Which would you prefer?",
      "I understand. I've asked the courier to deliver it first thing tomorrow, and I've refunded the delivery charge.",
    ])]);
  }
  return [...out, ...closing(r, !angry, `I'll look out for it on ${due.weekday}.`)];
}

function badItem(r: Random, shop: Shop): Turn[] {
  const p = productOf(r, shop).name;
  const problem = r.pick(DELIVERY_PROBLEMS.filter((x) => x !== 'has not arrived'));
  const fix = r.pick([
    `I've arranged a replacement, which will go out ${r.pick(['tomorrow', 'today', 'on Monday'])}. There is a free returns label in the box for the old one.`,
    `I've refunded the full amount to your card. It should show in your account within three to five working days.`,
    `I'm sending a courier to collect it on ${r.pick(WEEKDAYS)}, and a new one will come with them.`,
  ]);
  return [
    ['Customer', `My ${p} ${problem}. ${vary(r, '{What can you do about it?|Can you help?|I am not happy about this.}')}`],
    ['Agent', vary(r, `{I'm {very |really |}sorry to hear that|Oh no, I'm sorry about that|That shouldn't have happened, I'm sorry}. {Could you send me a photo and your order number?|Can you email us a photo, and tell me the order number?|Please send a photo of it along with your order number.}`)],
    ['Customer', `I've just emailed the photo. The order number is ${orderNumber(r)}.`],
    ['Agent', `Thank you, I can see it. ${fix}`],
    ...closing(r, r.chance(0.7)),
  ];
}

function refund(r: Random, shop: Shop): Turn[] {
  const p = productOf(r, shop);
  const back = randomDate(r);
  const price = r.between(p.price[0], p.price[1]);
  return [
    ['Customer', `I sent back a ${p.name} ${numberWords(r.between(3, 12))} days ago. When will I get my refund?`],
    ['Agent', vary(r, '{Let me check|I can look into that|I will have a look}. {What name is the order under?|Could I have the name on the order?|Which name did you order under?}')],
    ['Customer', `${r.pick(PEOPLE).name} ${r.pick(SURNAMES)}.`],
    ['Agent', `We received the ${p.name} on ${formatDate(back, 'dayMonth')} and the refund of $${price} was issued the same day. Refunds usually take three to five working days to reach your bank.`],
    ...closing(r, r.chance(0.8)),
  ];
}

function bookService(r: Random, shop: Shop): Turn[] {
  const svc = r.pick(BIKE_SERVICES);
  const [d1, d2] = r.sample(WEEKDAYS.slice(1), 2) as [string, string];
  const price = r.between(svc.price[0], svc.price[1]);
  const out: Turn[] = [
    ['Customer', `Can I book my bike in for a ${svc.name}?`],
    ['Agent', `Of course. We have space on ${d1} at ${r.between(9, 11)} in the morning or on ${d2} at ${r.between(1, 4)} in the afternoon.`],
    ['Customer', `${d1} would be ${r.pick(['great', 'best', 'fine'])}.`],
    ['Agent', `You're booked in for ${d1}. A ${svc.name} costs $${price} and takes ${r.pick(svc.takes)}.`],
  ];
  if (svc.name === 'basic tune-up' || svc.name === 'full service') {
    out.push(['Customer', 'What does that include?']);
    out.push(['Agent', `We ${joinList(r.sample(['check and adjust the brakes', 'adjust the gears', 'clean and oil the chain', 'pump up the tyres', 'check the wheels are true', 'tighten every bolt'], r.between(3, 4)))}.`]);
  }
  return [...greeting(r, shop), ...out, ...closing(r, true, `See you on ${d1}.`)];
}

function repair(r: Random, shop: Shop): Turn[] {
  const f = r.pick(BIKE_FAULTS);
  const svc = BIKE_SERVICES.find((s) => s.name === f.service) ?? r.pick(BIKE_SERVICES);
  const out: Turn[] = [
    ['Customer', `${capitalize(f.now.replace('when I pedal', 'every time I pedal'))} on my bike. ${vary(r, '{Can you fix it?|Is that something you can look at?|Do I need to bring it in?}')}`],
    ['Agent', `That usually means ${f.cause}. Bring it in and we'll take a look. A ${svc.name} is about $${r.between(svc.price[0], svc.price[1])}.`],
  ];
  if (r.chance(0.5)) {
    out.push(['Customer', 'Is there anything I can do myself in the meantime?']);
    out.push(['Agent', sentence(`${r.pick(['Keep an eye on it', 'Ride gently until then', 'Not much, I am afraid'])}. In general, ${clause(genericSubject(entity('bicycle')), r.pick(bikeCare()))}`)]);
  }
  return [...greeting(r, shop), ...out, ...closing(r, true, `I'll bring it in ${r.pick(['tomorrow', 'this week', 'on Saturday', 'after work'])}.`)];
}

function rental(r: Random, shop: Shop): Turn[] {
  const bike = r.pick(RENTALS);
  const perDay = r.between(bike.price[0], bike.price[1]);
  const days = r.between(2, 7);
  const deposit = r.pick([50, 100, 150, 200]);
  return [
    ...greeting(r, shop),
    ['Customer', `How much is it to rent a ${bike.name} for ${numberWords(days)} days?`],
    ['Agent', `A ${bike.name} is $${perDay} a day, so ${numberWords(days)} days would be $${perDay * days}. ${r.pick(['Helmets and locks are included.', 'That includes a helmet and a lock.', 'A helmet is included, and a lock is $2 a day.'])}`],
    ['Customer', vary(r, '{Do I need to leave a deposit?|Is there a deposit?|Do you take a deposit?|Will I have to pay a deposit?}')],
    ['Agent', `Yes, we take a deposit of $${deposit}, which you get back when the bike is returned in good condition.`],
    ...closing(r, true, `I'll ${r.pick(['book it online', 'come in on Friday to pick it up', 'talk to my partner and call back'])}.`),
  ];
}

function hours(r: Random, shop: Shop): Turn[] {
  const day = r.pick(WEEKDAYS);
  const open = r.between(8, 10);
  const close = r.between(4, 7);
  const sunday = day === 'Sunday';
  return [
    ...greeting(r, shop),
    ['Customer', `What time are you open on ${day}?`],
    ['Agent', sunday && r.chance(0.5) ? "We're closed on Sundays, I'm afraid, but we're open from nine until five on Saturday." : `On ${day} we open at ${open} in the morning and close at ${close}:30 in the afternoon.`],
    ...closing(r, true),
  ];
}

/** The customer asks something the fact table answers, and the agent answers with the fact. */
function advice(r: Random, shop: Shop): Turn[] {
  const pool: Entity[] = shop.kind === 'kitchen'
    ? ['mayonnaise', 'cast-iron', 'pressure-cooker', 'bread', 'yeast', 'baking-soda', 'cream', 'egg-white', 'chocolate', 'sugar', 'rice', 'tomato'].map(entity)
    : ['tide', 'tide-pool', 'mudflat', 'jellyfish', 'seal', 'heron', 'sand'].map(entity);
  const e = r.pick(pool.filter((x) => x.facts.some((f) => f.q)));
  const f = r.pick(e.facts.filter((x) => x.q));
  const s = someSubject(r, e);
  const item = productOf(r, shop).name;
  const guide = GUIDES.find((g) => g.about.includes(e.id));
  const answer = [sentence(clause(s, f.vp) + (f.why ? ` because ${reason(f, s)}` : ''))];
  const tips = guide ? guide.tips.filter((t) => t.toLowerCase().includes(e.noun.sg.toLowerCase().split(' ')[0] as string)) : [];
  if (tips.length && r.chance(0.6)) answer.push(r.pick(tips));
  return [
    ...greeting(r, shop),
    ['Customer', `${r.pick([`I bought a ${item} from you last week.`, 'I have a quick question.', 'Maybe you can help me with something.'])} ${capitalize(fillQuestion(f.q as string, s))}`],
    ['Agent', `${r.pick(['Good question!', 'Happy to help.', 'That comes up a lot.', ''])} ${answer.join(' ')}`.trim()],
    ...closing(r, true),
  ];
}

function cancel(r: Random, shop: Shop): Turn[] {
  const p = productOf(r, shop);
  const price = r.between(p.price[0], p.price[1]);
  return [
    ...greeting(r, shop),
    ['Customer', `Can I cancel order ${orderNumber(r)}? I ${r.pick(['ordered the wrong size', 'found one closer to home', 'ordered it twice by mistake', 'changed my mind'])}.`],
    ['Agent', r.chance(0.7)
      ? `It hasn't been sent yet, so I've cancelled it for you. You'll get a refund of $${price} within three to five working days.`
      : `It has already been sent, I'm afraid, so I can't cancel it. When it arrives you can return it for free within thirty days and we'll refund the $${price}.`],
    ...closing(r, true),
  ];
}

/** A support conversation: lines "Customer: …" and "Agent: …". */
export function dialogue(r: Random): string {
  const shop = r.pick(SHOPS);
  const scenarios = shop.kind === 'bikes'
    ? [lateDelivery, badItem, refund, bookService, repair, rental, hours, cancel]
    : [lateDelivery, badItem, refund, hours, advice, advice, advice, cancel];
  // Consecutive turns of one speaker are one line.
  const turns: Turn[] = [];
  for (const [who, text] of r.pick(scenarios)(r, shop)) {
    const last = turns[turns.length - 1];
    if (last && last[0] === who) last[1] = `${last[1]} ${text}`;
    else turns.push([who, text]);
  }
  return turns.map(([who, text]) => `${who}: ${text}`).join('\n');
}

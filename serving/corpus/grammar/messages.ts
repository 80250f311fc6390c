// Short messages to a shop's support desk, each with the sentiment it carries, and product reviews
// with a rating that matches their tone.
import { capitalize, numberWords, sentence } from '../english.ts';
import { PEOPLE } from '../lexicon.ts';
import type { Random } from '../random.ts';
import { BIKE_FAULTS, BIKE_SERVICES, COMPLAINTS, DELIVERY_PROBLEMS, PRAISE, PRODUCTS, RENTALS, SHOPS, type Shop, type ShopKind } from '../support.ts';
import { vary } from '../vary.ts';
import { townName } from './story.ts';
import { WEEKDAYS } from '../calendar.ts';

export type Sentiment = 'positive' | 'negative' | 'neutral';

const COLOURS = ['black', 'white', 'red', 'blue', 'green', 'grey', 'yellow', 'orange', 'silver'];

/** A message a customer might send, with the given sentiment. */
export function supportMessage(r: Random, label: Sentiment, shop: Shop = r.pick(SHOPS)): string {
  const product = r.pick(PRODUCTS[shop.kind]).name;
  const staff = r.pick(PEOPLE).name;
  const town = townName(r);
  const bikes = shop.kind === 'bikes';
  const svc = r.pick(BIKE_SERVICES);
  const t: Record<Sentiment, (() => string)[]> = {
    positive: [
      () => `${staff} at the ${town} store ${vary(r, '{sorted out|fixed|solved}')} my problem in ${vary(r, '{minutes|no time|ten minutes}')}. ${capitalize(r.pick(PRAISE))} service!`,
      () => `My new ${product} arrived ${vary(r, '{a day early|right on time|the day after I ordered it}')} and was ${vary(r, '{perfectly packed|exactly as described|even better than the photos}')}. ${vary(r, '{Very happy|Delighted|Thank you so much}')}!`,
      () => `Thank you, ${staff}, for ${vary(r, '{helping me choose the right|finding me a|tracking down my}')} ${product}. You were ${r.pick(PRAISE)}.`,
      () => bikes ? `The ${svc.name} was worth every penny. My bike ${vary(r, '{feels like new|rides beautifully|is running perfectly}')} now.` : `The ${product} I bought last month is ${r.pick(PRAISE)}. I use it every day.`,
      () => `Returning the ${product} was ${vary(r, '{painless|easy|so simple}')}, and the refund was in my account ${vary(r, '{the next day|within two days|the same week}')}.`,
      () => `I ${vary(r, '{rented|hired}')} a ${r.pick(RENTALS).name} for the weekend and it was in ${vary(r, '{great|perfect|excellent}')} condition. We will be back!`,
      () => `${staff} on the phone was ${r.pick(PRAISE)} and ${vary(r, '{patient|kind|clear}')}. Problem solved in one call.`,
    ],
    negative: [
      () => `My ${product} ${r.pick(DELIVERY_PROBLEMS)}, and ${vary(r, '{nobody has answered my emails|I have heard nothing from you|no one will give me a straight answer}')}.`,
      () => `I waited ${numberWords(r.between(20, 55))} minutes on hold and then the call ${vary(r, '{dropped|was cut off|just ended}')}.`,
      () => bikes ? `You charged me $${r.between(svc.price[0], svc.price[1])} for a ${svc.name}, but ${r.pick(BIKE_FAULTS).now} ${vary(r, '{again|still}')}.` : `The ${product} stopped working after ${numberWords(r.between(2, 9))} days. ${capitalize(r.pick(COMPLAINTS))}.`,
      () => `I was promised ${bikes ? 'my bike' : `my ${product}`} by ${r.pick(WEEKDAYS)} and it is ${vary(r, '{still not ready|nowhere to be seen|still missing}')}. ${capitalize(r.pick(COMPLAINTS))}.`,
      () => `The person I spoke to at the ${town} store was ${vary(r, '{rude|unhelpful|dismissive}')} and would not listen to me.`,
      () => `My refund for the ${product} is ${numberWords(r.between(2, 6))} weeks late. This is ${r.pick(COMPLAINTS)}.`,
      () => `I have emailed ${numberWords(r.between(2, 5))} times about my order and had no reply at all.`,
    ],
    neutral: [
      () => `What time does the ${town} store open on ${r.pick(WEEKDAYS)}s?`,
      () => `Do you have the ${product} in ${r.pick(COLOURS)}?`,
      () => bikes ? `How much does a ${svc.name} cost, and how long does it take?` : `Is the ${product} covered by a warranty?`,
      () => `Can I change the delivery address for order ${r.between(10000, 99999)}?`,
      () => bikes ? `Is it possible to rent a ${r.pick(RENTALS).name} for ${numberWords(r.between(2, 7))} days?` : `Do you deliver to ${town}, and is there a charge?`,
      () => `Please could you tell me ${vary(r, '{when my order will arrive|how to return an item|whether the item is back in stock}')}?`,
      () => `I would like to know if the ${product} comes ${vary(r, '{assembled|with instructions|in a gift box}')}.`,
    ],
  };
  return r.pick(t[label])();
}

/** A product review whose rating (1–5) agrees with its tone. */
export function review(r: Random): string {
  const shop = r.pick(SHOPS);
  const product = r.pick(PRODUCTS[shop.kind]).name;
  const label = r.weighted([['positive', 5], ['negative', 3], ['neutral', 2]] as const);
  const rating = label === 'positive' ? r.between(4, 5) : label === 'negative' ? r.between(1, 2) : 3;
  const name = r.pick(PEOPLE).name;
  const body: string[] = [];
  if (label === 'positive') {
    body.push(sentence(`I bought this ${product} from ${shop.name} ${vary(r, '{last month|a few weeks ago|in the spring}')} and it has been ${r.pick(PRAISE)}`));
    body.push(sentence(vary(r, '{It is well made and easy to use|The quality is much better than I expected|It does exactly what it should}')));
    if (r.chance(0.6)) body.push(sentence(vary(r, '{Delivery was quick|The staff were helpful when I had a question|It was good value for the price}')));
  } else if (label === 'negative') {
    body.push(sentence(`I ordered this ${product} from ${shop.name} and I am ${vary(r, '{disappointed|not happy|frustrated}')}`));
    body.push(sentence(vary(r, '{It broke within a week|It looks nothing like the pictures|Half of the parts were missing|It took a month to arrive}')));
    if (r.chance(0.6)) body.push(sentence(vary(r, '{Customer service did not reply to my emails|I would not buy it again|I have asked for a refund}')));
  } else {
    body.push(sentence(`This ${product} from ${shop.name} is ${vary(r, '{fine|all right|about what you would expect}')}`));
    body.push(sentence(vary(r, '{It works, but it feels a little cheap|It does the job, though the instructions were confusing|Nothing special, but nothing wrong with it either}')));
  }
  const title = r.pick([`Review of a ${product}`, `${capitalize(product)} from ${shop.name}`, `My ${product}`]);
  return `${title}\n${body.join(' ')}\nRating: ${rating} out of 5\nReviewed by ${name}`;
}

export const shopOfKind = (r: Random, kind: ShopKind) => r.pick(SHOPS.filter((s) => s.kind === kind));

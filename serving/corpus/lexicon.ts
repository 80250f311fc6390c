// Everyday word lists for the corpus grammar: people, places, times, weather and feelings.
// Every name here is invented or common; the places are fictional. Written for Tributary (CC-BY-4.0).
import type { Season } from './calendar.ts';

export type Gender = 'f' | 'm';
export interface Person {
  name: string;
  gender: Gender;
}

const female = ['Maya', 'Nadia', 'Sara', 'Lucy', 'Emma', 'Grace', 'Hannah', 'Amira', 'Rosa', 'Elena', 'Chloe',
  'Zoe', 'Ava', 'Leila', 'Fatima', 'Mei', 'Yuki', 'Ingrid', 'Clara', 'Julia', 'Olivia', 'Alice', 'Ruth', 'Tess',
  'Nora', 'Iris', 'Esther', 'Ana', 'Lena', 'Jade', 'Kira', 'Molly', 'Ella', 'Freya', 'Amara', 'Helen', 'Sofia',
  'Aisha', 'Martha', 'Wendy'];
const male = ['Tom', 'Sam', 'Ben', 'Leo', 'Omar', 'Daniel', 'David', 'Jack', 'Oliver', 'Noah', 'Ravi', 'Kenji',
  'Luis', 'Mateo', 'Hugo', 'Felix', 'Adam', 'Owen', 'Ethan', 'Isaac', 'Jonah', 'Arjun', 'Kwame', 'Tariq', 'Ivan',
  'Pablo', 'Theo', 'Max', 'Finn', 'Rory', 'Elliot', 'Joe', 'Will', 'Yusuf', 'Aziz', 'Malik', 'Peter', 'George',
  'Simon', 'Victor'];

export const PEOPLE: readonly Person[] = [
  ...female.map((name) => ({ name, gender: 'f' as const })),
  ...male.map((name) => ({ name, gender: 'm' as const })),
];

export const SURNAMES = ['Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Brennan', 'Costa', 'Novak', 'Haddad',
  'Fischer', 'Walsh', 'Mendes', 'Kowalski', 'Abbott', 'Reyes', 'Nakamura', 'Osei', 'Larsen', 'Byrne', 'Silva',
  'Khan', 'Murphy', 'Ahmed', 'Schmidt', 'Rossi', 'Dubois', 'Kim', 'Chen', 'Singh', 'Garcia', 'Olsen', 'Baker',
  'Fletcher', 'Hughes', 'Marsh', 'Turner', 'Webb'] as const;

export const pronouns = (g: Gender) =>
  g === 'f' ? { subj: 'she', obj: 'her', poss: 'her', self: 'herself' } : { subj: 'he', obj: 'him', poss: 'his', self: 'himself' };

/** Relations of a companion, by the companion's gender. */
export const RELATIONS: Record<Gender, readonly string[]> = {
  f: ['mother', 'grandmother', 'aunt', 'sister', 'cousin', 'friend', 'neighbour', 'daughter'],
  m: ['father', 'grandfather', 'uncle', 'brother', 'cousin', 'friend', 'neighbour', 'son'],
};

// ---- places ------------------------------------------------------------------------------------

/** Parts of invented coastal and town names: "Heron Creek", "Amber Sands". */
export const NAME_PARTS = {
  coastFirst: ['Gull', 'Heron', 'Seal', 'Otter', 'Amber', 'Black', 'Red', 'Long', 'Windy', 'Stony', 'Shell',
    'Pebble', 'Silver', 'Lantern', 'Driftwood', 'Curlew', 'Saltwell', 'Mussel', 'Tern', 'Crab'],
  townFirst: ['Ash', 'Brook', 'Elm', 'Mill', 'Oak', 'Stone', 'Wood', 'Bright', 'Green', 'Hazel', 'Fern',
    'Kings', 'Lark', 'West', 'North'],
  townLast: ['ford', 'bury', 'field', 'ton', 'wick', 'ley', 'bridge', 'stead', 'well', 'by'],
  street: ['High Street', 'Station Road', 'Market Square', 'Church Lane', 'Mill Road', 'Park Avenue',
    'Bridge Street', 'Harbour Road', 'Orchard Way', 'Castle Street'],
  river: ['Wren', 'Teal', 'Alder', 'Sorrel', 'Linnet', 'Otter', 'Willow', 'Dart', 'Amber', 'Heron'],
};

export interface PlaceKind {
  id: string;
  /** Endings for an invented name of such a place. */
  endings: readonly string[];
  /** How a story names a visit there: {N} is the place's invented name. */
  names: readonly string[];
  /** What people do there (past tense, after the person's name). */
  doings: readonly string[];
  /** How the trip there is made (past tense). */
  arrivals: readonly string[];
}

export const PLACES: readonly PlaceKind[] = [
  { id: 'rocky shore', endings: ['Point', 'Head', 'Rocks', 'Cove'], names: ['the rocky shore at {N}', 'the rocks below {N}', 'the tide pools at {N}'],
    doings: ['turned over stones to look for crabs', 'peered into the tide pools', 'climbed carefully over the wet rocks', 'checked the tide table before setting out'],
    arrivals: ['walked down the cliff path to', 'cycled out to', 'took the early bus to'] },
  { id: 'beach', endings: ['Sands', 'Bay', 'Strand'], names: ['the beach at {N}', '{N}', 'the long beach at {N}'],
    doings: ['walked along the tide line', 'collected shells in a bucket', 'watched the waves roll in', 'built a sandcastle near the water'],
    arrivals: ['drove to', 'walked down to', 'took the train to'] },
  { id: 'dunes', endings: ['Sands', 'Links', 'Dunes'], names: ['the dunes at {N}', 'the sand dunes behind {N}'],
    doings: ['followed the boardwalk through the dunes', 'stayed on the path to protect the grass', 'climbed the highest dune to see the sea'],
    arrivals: ['walked out to', 'cycled to'] },
  { id: 'estuary', endings: ['Creek', 'Reach', 'Haven'], names: ['the estuary at {N}', 'the mouth of the {R} River', 'the mudflats near {N}'],
    doings: ['set up a telescope on the sea wall', 'counted birds on the mudflats', 'walked along the river bank as the tide went out', 'sat in the bird hide'],
    arrivals: ['drove out to', 'cycled along the river to', 'walked to'] },
  { id: 'salt marsh', endings: ['Marsh', 'Saltings', 'Fen'], names: ['the salt marsh at {N}', 'the marshes near {N}'],
    doings: ['followed the raised path across the marsh', 'watched the creeks fill with the rising tide', 'listened to the birds calling across the marsh'],
    arrivals: ['walked out to', 'cycled to'] },
  { id: 'mudflats', endings: ['Flats', 'Creek'], names: ['the mudflats at {N}'],
    doings: ['stayed on the firm sand at the edge of the mud', 'watched the water drain out of the creeks'],
    arrivals: ['walked out to'] },
  { id: 'mangroves', endings: ['Lagoon', 'Creek', 'Inlet'], names: ['the mangrove forest at {N}', 'the mangroves along {N}'],
    doings: ['paddled a canoe between the mangrove roots', 'walked along a wooden boardwalk above the mud', 'waited quietly for the tide to turn'],
    arrivals: ['took a small boat to', 'drove to'] },
  { id: 'kelp forest', endings: ['Point', 'Cove', 'Bay'], names: ['the kelp forest off {N}', 'the kelp beds near {N}'],
    doings: ['paddled a kayak over the kelp', 'leaned over the side of the boat to look into the water', 'drifted quietly with the engine off'],
    arrivals: ['took a boat trip to', 'paddled out to'] },
  { id: 'reef', endings: ['Reef', 'Lagoon', 'Bay'], names: ['the reef at {N}', 'the coral reef off {N}'],
    doings: ['snorkelled along the edge of the reef', 'floated face down above the coral', 'swam slowly so as not to touch anything'],
    arrivals: ['took a boat out to', 'swam out to'] },
  { id: 'cliffs', endings: ['Head', 'Point', 'Cliffs'], names: ['the cliffs at {N}', 'the top of {N}'],
    doings: ['lay on the grass at the edge of the cliff with binoculars', 'followed the coast path along the cliff top', 'kept well back from the crumbling edge'],
    arrivals: ['hiked up to', 'drove to'] },
  { id: 'harbour', endings: ['Harbour', 'Quay', 'Haven'], names: ['the harbour at {N}', 'the old harbour in {N}'],
    doings: ['sat on the harbour wall eating chips', 'watched the fishing boats come in', 'walked to the end of the pier'],
    arrivals: ['walked down to', 'took the bus to'] },
  { id: 'open sea', endings: ['Harbour', 'Quay'], names: ['the open sea beyond {N}', 'the water far out from {N}'],
    doings: ['scanned the waves from the deck', 'held on to the rail as the boat rolled', 'kept watch from the front of the boat'],
    arrivals: ['took a wildlife boat trip out to', 'sailed out to'] },
  { id: 'garden', endings: [], names: ['the garden', 'the back garden', 'the community garden'],
    doings: ['weeded the vegetable beds', 'watered the pots by the door', 'planted a row of seeds', 'sat on the bench with a cup of tea'],
    arrivals: ['went out into', 'wandered into'] },
  { id: 'park', endings: [], names: ['the park', 'the big park by the river', 'the park on {S}'],
    doings: ['walked around the lake', 'sat on a bench under the trees', 'threw a ball for the dog', 'fed the ducks by the pond'],
    arrivals: ['walked to', 'cycled to'] },
  { id: 'woods', endings: [], names: ['the woods', 'the woods behind the village', 'the old oak wood'],
    doings: ['followed a muddy path under the trees', 'stood still and listened', 'looked for footprints in the mud'],
    arrivals: ['walked to', 'cycled to'] },
  { id: 'pond', endings: [], names: ['the pond', 'the village pond', 'the pond in the park'],
    doings: ['knelt at the edge of the water', 'counted the ducks', 'watched ripples spread across the water'],
    arrivals: ['walked to', 'wandered down to'] },
  { id: 'farm', endings: [], names: ['the farm', "their uncle's farm", 'the farm at the end of the lane'],
    doings: ['helped to feed the animals', 'picked apples in the orchard', 'walked along the edge of the fields'],
    arrivals: ['drove out to', 'cycled to'] },
];

export const placeKind = (id: string): PlaceKind => {
  const p = PLACES.find((x) => x.id === id);
  if (!p) throw new Error(`no place kind ${id}`);
  return p;
};

// ---- times, weather and feelings --------------------------------------------------------------

export const TIMES_OF_DAY = ['early in the morning', 'in the morning', 'around midday', 'in the afternoon',
  'late in the afternoon', 'in the evening', 'at dawn', 'just after sunrise'] as const;

export const WEATHER: Record<Season, readonly string[]> = {
  spring: ['mild and bright', 'cool, with a light breeze', 'showery, with sunny spells', 'fresh and clear', 'grey but dry'],
  summer: ['hot and still', 'warm and sunny', 'bright, with a few high clouds', 'humid and hazy', 'warm, with a gentle breeze'],
  autumn: ['windy and wet', 'cool and foggy', 'crisp and clear', 'damp and grey', 'blustery, with low clouds'],
  winter: ['cold and frosty', 'icy, with a bitter wind', 'grey and drizzly', 'cold but bright', 'dark and stormy'],
};

export const SKY: Record<Season, readonly string[]> = {
  spring: ['Blossom was out on the trees', 'The first swallows were back', 'The days were getting longer'],
  summer: ['The sun was already high', 'The air smelled of cut grass', 'There was hardly a cloud in the sky'],
  autumn: ['Leaves were blowing across the road', 'The light was low and golden', 'The mornings were getting darker'],
  winter: ['Frost covered the grass', 'Their breath made clouds in the cold air', 'It was nearly dark by four o\'clock'],
};

export const FEELINGS = {
  good: ['happy', 'delighted', 'proud', 'relieved', 'pleased', 'excited', 'calm', 'grateful', 'cheerful'],
  bad: ['tired', 'disappointed', 'cold', 'hungry', 'worried', 'annoyed', 'frustrated', 'soaked'],
} as const;

export const SAYING_VERBS = ['said', 'asked', 'whispered', 'called', 'laughed', 'replied', 'explained'] as const;

/** Things people carry on a trip. */
export const GEAR = ['a flask of tea', 'a pair of binoculars', 'a notebook and a pencil', 'a camera', 'a picnic lunch',
  'a field guide to the shore', 'waterproof jackets', 'a map', 'sandwiches and apples', 'a bucket and a net'] as const;

export const JOBS = ['teacher', 'nurse', 'baker', 'engineer', 'gardener', 'doctor', 'librarian', 'bus driver',
  'carpenter', 'chef', 'fisherman', 'painter', 'farmer', 'mechanic', 'shop assistant', 'scientist',
  'park ranger', 'musician', 'postman'] as const;

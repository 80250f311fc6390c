// Everyday knowledge: the garden, animals, weather, the sky, getting around town, and the body.
// Written for Tributary (CC-BY-4.0).
import { mass, noun } from '../english.ts';
import { entities, type Topic } from '../facts.ts';

export const EVERYDAY_TOPICS: Topic[] = [
  { id: 'garden', domain: 'everyday', title: 'In the garden', intros: [
    'Even a small garden is full of living things, if you look closely.',
    'A garden changes from week to week as the seasons turn.',
    'Plants and animals in a garden depend on each other in many ways.',
  ] },
  { id: 'animals', domain: 'everyday', title: 'Animals we live with', intros: [
    'People have shared their homes with animals for thousands of years.',
    'The animals around us have habits that are worth watching.',
  ] },
  { id: 'weather', domain: 'everyday', title: 'Weather', intros: [
    'The weather changes from day to day, but it follows rules.',
    'Everything that happens in the weather starts with the Sun warming the air, the land and the sea.',
    'People have always watched the sky to guess what the weather will do next.',
  ] },
  { id: 'sky', domain: 'everyday', title: 'The sky', intros: [
    'The Sun, the Moon and the stars have kept time for people since long before clocks.',
    'On a clear night, far from city lights, the sky is full of stars.',
  ] },
  { id: 'town', domain: 'everyday', title: 'Getting around town', intros: [
    'There are many ways to get around a town, and each has its own habits.',
    'A town works because many people share its streets, buses and buildings.',
  ] },
  { id: 'body', domain: 'everyday', title: 'The human body', intros: [
    'The human body keeps itself running day and night without our having to think about it.',
    'Small daily habits make a big difference to how the body feels.',
  ] },
];

export const EVERYDAY_ENTITIES = entities('everyday', [
  // ---- the garden
  { id: 'honeybee', topic: 'garden', noun: noun('honeybee'), kind: noun('flying insect'), that: 'live in large colonies',
    facts: [
      { vp: 'make honey from the nectar of flowers', q: 'How {do} {x} make honey?' },
      { vp: 'carry pollen from flower to flower', seen: true },
      { vp: 'dance to tell each other where to find flowers', q: 'How {do} {x} tell each other where flowers are?' },
      'live in colonies with a single queen',
    ],
    places: ['garden', 'park', 'farm'] },
  { id: 'butterfly', topic: 'garden', noun: noun('butterfly'), kind: noun('insect'), that: 'have large, colourful wings',
    facts: [
      { vp: 'start life as caterpillars', q: 'How {do} {x} start life?' },
      { vp: 'taste with {their} feet', q: 'How {do} {x} taste {their} food?' },
      { vp: 'open {their} wings in the sun to warm up', seen: true },
      'drink nectar through a long, coiled tube',
    ],
    places: ['garden', 'park', 'dunes'] },
  { id: 'earthworm', topic: 'garden', noun: noun('earthworm'), kind: noun('soft animal'), that: 'live in the soil',
    facts: [
      { vp: 'mix and ^loosen the soil as {they} {dig/digs}', q: 'Why {be} {x} good for a garden?' },
      'pull dead leaves down into {their} burrows',
      { vp: 'breathe through {their} skin', q: 'How {do} {x} breathe?' },
      { vp: 'come to the surface after heavy rain', seen: true },
    ],
    not: ['have eyes'],
    places: ['garden', 'farm'] },
  { id: 'sunflower', topic: 'garden', noun: noun('sunflower'), kind: noun('tall plant'), that: 'have large yellow flowers',
    facts: [
      { vp: 'turn to follow the sun while {they} {are/is} young', q: '{do} {x} follow the sun?' },
      'can grow taller than a grown-up',
      'produce hundreds of seeds in each flower head',
    ],
    places: ['garden', 'farm'] },
  { id: 'oak', topic: 'garden', noun: noun('oak tree'), kind: noun('large, slow-growing tree'),
    facts: [
      { vp: 'grow acorns', q: 'What seeds {do} {x} grow?' },
      { vp: 'can live for hundreds of years', q: 'How long can {x} live?' },
      'lose {their} leaves in autumn',
      'give food and shelter to hundreds of kinds of insects and birds',
    ],
    places: ['park', 'woods', 'farm'] },
  { id: 'carrot', topic: 'garden', noun: noun('carrot'), kind: noun('root vegetable'),
    facts: [
      { vp: 'grow underground as a thick orange root', q: 'Which part of the plant {be} {x}?' },
      'taste sweeter after a cold spell',
      'be easy to grow from seed in loose soil',
    ],
    places: ['garden', 'market', 'farm'] },

  // ---- animals we live with
  { id: 'cat', topic: 'animals', noun: noun('cat'), kind: noun('small hunting animal'), that: 'be often kept as a pet',
    facts: [
      { vp: 'sleep for much of the day', q: 'How much {do} {x} sleep?' },
      { vp: 'purr when {they} {are/is} content', seen: true },
      { vp: 'land on {their} feet when {they} {fall/falls}', q: 'How {do} {x} land when {they} {fall/falls}?' },
      { vp: 'stretch out in patches of sunlight', seen: true },
      'see well in dim light',
    ],
    places: ['town', 'garden', 'farm'] },
  { id: 'dog', topic: 'animals', noun: noun('dog'), kind: noun('loyal animal'), that: 'have lived alongside people for thousands of years',
    facts: [
      { vp: 'have a much stronger sense of smell than people', q: 'How good is the sense of smell of {x}?' },
      { vp: 'wag {their} {tails/tail} when {they} {are/is} excited', seen: true },
      'need a walk every day',
      { vp: 'chase balls across the grass', seen: true },
    ],
    places: ['park', 'beach', 'town', 'farm'] },
  { id: 'owl', topic: 'animals', noun: noun('owl'), kind: noun('bird of prey'), that: 'hunt mostly at night',
    facts: [
      { vp: 'fly almost without a sound', why: 'soft edges on {their} feathers break up the noise of the air' },
      { vp: 'turn {their} {heads/head} much further than people can', q: 'How far can {x} turn {their} {heads/head}?' },
      'find mice in the dark by sound',
    ],
    places: ['woods', 'farm'] },
  { id: 'frog', topic: 'animals', noun: noun('frog'), kind: noun('amphibian'), that: 'live both in water and on land',
    facts: [
      { vp: 'lay {their} eggs in water', q: 'Where {do} {x} lay {their} eggs?' },
      { vp: 'start life as tadpoles', q: 'How {do} {x} start life?' },
      { vp: 'breathe through {their} skin as well as {their} lungs', q: 'How {do} {x} breathe?' },
      { vp: 'sit still on a lily pad', seen: true },
    ],
    places: ['pond', 'garden'] },
  { id: 'duck', topic: 'animals', noun: noun('duck'), kind: noun('water bird'), that: 'have webbed feet',
    facts: [
      { vp: 'keep {their} feathers waterproof with oil from a gland near the tail', q: 'How {do} {x} stay dry?' },
      { vp: 'dabble for plants at the edge of the water', seen: true },
      { vp: 'paddle in a line behind {their} {mothers/mother}', seen: true },
    ],
    places: ['pond', 'park', 'salt marsh'] },
  { id: 'squirrel', topic: 'animals', noun: noun('squirrel'), kind: noun('small rodent'), that: 'live in trees',
    facts: [
      { vp: 'bury nuts in autumn and ^dig them up in winter', q: 'How {do} {x} get through the winter?' },
      { vp: 'forget where many of the nuts are buried', why: 'forgotten nuts grow into new trees' },
      { vp: 'leap from branch to branch', seen: true },
    ],
    places: ['park', 'woods', 'garden'] },

  // ---- weather
  { id: 'rain', topic: 'weather', noun: mass('rain'), kind: noun('kind of weather'), that: 'fall from clouds as drops of water',
    facts: [
      { vp: 'fall when the drops in a cloud grow too heavy to float', q: 'Why {do} {x} fall?' },
      'fill rivers, lakes and reservoirs',
      'be heaviest on the side of mountains that faces the wind',
    ],
    places: ['town', 'garden'] },
  { id: 'snow', topic: 'weather', noun: mass('snow'), kind: noun('kind of weather'), that: 'fall from clouds as ice crystals',
    facts: [
      { vp: 'reach the ground only when the air is cold all the way down', q: 'When {do} {x} reach the ground?' },
      { vp: 'reflect most of the sunlight that hits it', q: 'Why {be} {x} so bright?' },
      'keep plants and small animals warmer by holding in heat',
    ],
    places: ['town', 'park'] },
  { id: 'cloud', topic: 'weather', noun: noun('cloud'), kind: noun('mass of tiny water droplets or ice crystals'), that: 'float in the sky',
    facts: [
      { vp: 'form when warm, moist air rises and cools', q: 'How {do} {x} form?' },
      'look white because {they} {scatter/scatters} all colours of sunlight',
      'look grey when {they} {are/is} thick enough to block the light',
    ],
    places: ['town', 'open sea'] },
  { id: 'rainbow', topic: 'weather', noun: noun('rainbow'), kind: noun('arc of colours'), that: 'appear in the sky',
    facts: [
      { vp: 'appear when sunlight shines through raindrops', q: 'When {do} {x} appear?' },
      { vp: 'always appear on the opposite side of the sky from the Sun', q: 'Where should you look for {x}?' },
      'have red on the outside and violet on the inside',
    ],
    places: ['town', 'beach'] },
  { id: 'lightning', topic: 'weather', noun: mass('lightning'), kind: noun('giant electric spark'), that: 'jump between clouds or down to the ground',
    facts: [
      { vp: 'heat the air so fast that it makes the sound of thunder', q: 'What causes thunder?' },
      'be seen before thunder is heard, because light travels faster than sound',
      'strike tall, pointed things more often than low ones',
    ],
    places: ['town'] },
  { id: 'wind', topic: 'weather', noun: mass('wind'), kind: noun('movement of air'), that: 'blow from high pressure toward low pressure',
    facts: [
      { vp: 'be caused by the Sun warming some places more than others', q: 'What causes {x}?' },
      'blow more strongly over the sea than over the land',
      'carry the seeds of many plants far from the parent',
    ],
    places: ['beach', 'dunes', 'cliffs'] },

  // ---- the sky
  { id: 'moon', topic: 'sky', noun: noun('Moon'), generic: 'the', kind: noun('natural satellite'), that: 'go around the Earth',
    facts: [
      { vp: 'take about 27 days to go once around the Earth', q: 'How long {do} {x} take to go around the Earth?' },
      { vp: 'shine by reflecting light from the Sun', q: 'Why {do} {x} shine?' },
      { vp: 'pull on the oceans and ^raise the tides', q: 'What {do} {x} do to the oceans?' },
      'always keep the same side turned toward the Earth',
    ],
    not: ['make {their} own light'],
    places: [] },
  { id: 'sun', topic: 'sky', noun: noun('Sun'), generic: 'the', kind: noun('star'), that: 'sit at the centre of the solar system',
    facts: [
      { vp: 'rise in the east and ^set in the west', q: 'Where {do} {x} rise?' },
      { vp: 'be about 150 million kilometres from the Earth', q: 'How far from the Earth {be} {x}?' },
      'give the Earth almost all of its light and heat',
    ],
    places: [] },
  { id: 'star', topic: 'sky', noun: noun('star'), kind: noun('huge ball of hot gas'), that: 'shine with {their} own light',
    facts: [
      { vp: 'look tiny because {they} {are/is} so far away', q: 'Why {do} {x} look so small?' },
      { vp: 'twinkle because moving air bends {their} light', q: 'Why {do} {x} twinkle?' },
      'come in different colours, from red to blue',
    ],
    places: [] },

  // ---- getting around town
  { id: 'bicycle', topic: 'town', noun: noun('bicycle'), kind: noun('vehicle'), that: 'have two wheels and pedals',
    facts: [
      { vp: 'need {their} tyres pumped up every few weeks', q: 'How often {do} {x} need {their} tyres pumped up?' },
      { vp: 'run more smoothly when the chain is cleaned and oiled', q: 'How can you keep {x} running smoothly?' },
      'be one of the most efficient ways to travel',
      'need brakes that are checked regularly',
    ],
    places: ['town', 'park'] },
  { id: 'train', topic: 'town', noun: noun('train'), kind: noun('line of carriages'), that: 'run on rails',
    facts: [
      { vp: 'carry many people at once using little fuel for each', q: 'Why {be} {x} good for the environment?' },
      'run to a timetable',
      'slow down long before {they} {reach/reaches} a station',
    ],
    places: ['town'] },
  { id: 'library', topic: 'town', noun: noun('public library', 'public libraries'), kind: noun('building'), that: 'lend books for free',
    facts: [
      { vp: 'lend books, films and music to anyone with a card', q: 'What can you borrow from {x}?' },
      'offer quiet places to read and study',
      'run reading groups and story times for children',
    ],
    places: ['town'] },
  { id: 'bus', topic: 'town', noun: noun('bus'), kind: noun('large road vehicle'), that: 'carry passengers on a fixed route',
    facts: [
      'stop at marked bus stops',
      'run less often late at night and on holidays',
      { vp: 'kneel down at the kerb to make getting on easier', seen: true },
    ],
    places: ['town'] },

  // ---- the body
  { id: 'heart', topic: 'body', noun: noun('heart'), generic: 'the', kind: noun('muscle'), that: 'pump blood around the body',
    facts: [
      { vp: 'beat about 60 to 100 times a minute at rest', q: 'How fast {do} {x} beat at rest?' },
      { vp: 'beat faster during exercise', why: 'the muscles need more oxygen' },
      'get stronger with regular exercise',
    ],
    places: [] },
  { id: 'sleep', topic: 'body', noun: mass('sleep'), kind: noun('time of rest'), that: 'come every night',
    facts: [
      { vp: 'help the body repair itself and the brain store memories', q: 'Why do people need {x}?' },
      'come more easily in a dark, cool, quiet room',
      'matter even more for children than for adults',
    ],
    places: [] },
  { id: 'bone', topic: 'body', noun: noun('bone'), kind: noun('hard, living tissue'),
    facts: [
      { vp: 'grow stronger when {they} {are/is} used', q: 'How can people keep their bones strong?' },
      'heal {themselves} after a break, given time',
      'store calcium for the rest of the body',
    ],
    places: [] },
]);

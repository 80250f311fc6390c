// Kitchen science: heat and browning, sauces and foams, dough and baking, salt, sugar and acid, and
// fruit and vegetables. Written for Tributary (CC-BY-4.0). The particular numbers and stories that the
// demo datanet kitchen-science holds are left out on purpose.
import { mass, noun } from '../english.ts';
import { entities, type Topic } from '../facts.ts';

export const KITCHEN_TOPICS: Topic[] = [
  { id: 'heat', domain: 'kitchen', title: 'Heat in the kitchen', intros: [
    'Cooking is mostly a matter of moving heat into food at the right speed.',
    'Every cook learns to watch for the moment when food changes colour in the pan.',
    'Heat changes the colour, the texture and the flavour of almost everything we eat.',
  ] },
  { id: 'sauces', domain: 'kitchen', title: 'Sauces, creams and foams', intros: [
    'Many sauces depend on getting oil and water to stay mixed.',
    'A good sauce is a small piece of chemistry.',
    'Whipping, whisking and stirring all change the way food holds air, oil and water.',
  ] },
  { id: 'baking', domain: 'kitchen', title: 'Dough and baking', intros: [
    'Bread is made from only a few ingredients, yet each one has its own job.',
    'Bakers measure carefully, because small changes in a recipe can make a big difference.',
    'A cake rises in the oven because gas bubbles grow inside the batter.',
  ] },
  { id: 'preserving', domain: 'kitchen', title: 'Salt, sugar and acid', intros: [
    'Long before refrigerators, people kept food with salt, sugar and vinegar.',
    'Salt, sugar and acid change food in ways that cooks use every day.',
    'A pinch of salt or a squeeze of lemon can change the taste of a whole dish.',
  ] },
  { id: 'produce', domain: 'kitchen', title: 'Fruit and vegetables', intros: [
    'Fruit and vegetables keep changing after they are picked.',
    'How fruit and vegetables are stored makes a big difference to their taste.',
  ] },
];

export const KITCHEN_ENTITIES = entities('kitchen', [
  // ---- heat
  { id: 'water', topic: 'heat', noun: mass('water'), kind: noun('liquid'), that: 'make up most of the weight of fresh food',
    facts: [
      { vp: 'boil at 100 °C at sea level', q: 'At what temperature {do} {x} boil at sea level?' },
      { vp: 'boil at a lower temperature high in the mountains', why: 'the air pressure there is lower' },
      { vp: 'freeze at 0 °C', q: 'At what temperature {do} {x} freeze?' },
      'expand when it freezes',
      { vp: 'carry heat into food much faster than air at the same temperature', q: 'Why {do} {x} cook food faster than air?' },
    ],
    not: ['get any hotter once it is boiling in an open pan'],
    places: ['kitchen'] },
  { id: 'maillard', topic: 'heat', noun: noun('Maillard reaction'), generic: 'the', kind: noun('set of chemical reactions'), that: 'happen between sugars and proteins',
    facts: [
      { vp: 'turn the surface of food brown and ^give it a roasted flavour', q: 'What {do} {x} do to food?' },
      { vp: 'need a dry surface', why: 'a wet surface stays too cool for fast browning' },
      'give toast, roasted coffee and fried onions much of their flavour',
    ],
    places: ['kitchen'] },
  { id: 'caramelisation', topic: 'heat', noun: mass('caramelisation'), generic: 'mass', kind: noun('kind of browning'), that: 'happen when sugar is heated until it breaks down',
    facts: [
      { vp: 'turn clear sugar syrup gold, then amber, then dark brown', q: 'What happens to sugar syrup as it caramelises?' },
      'make hundreds of new flavour compounds',
      'need higher temperatures than the Maillard reaction',
    ],
    places: ['kitchen'] },
  { id: 'pressure-cooker', topic: 'heat', noun: noun('pressure cooker'), kind: noun('sealed pot'), that: 'trap steam inside',
    facts: [
      { vp: 'cook food faster by raising the boiling point of water', q: 'How {do} {x} cook food faster?' },
      'can reach about 120 °C inside',
      'make tough cuts of meat tender in much less time',
    ],
    places: ['kitchen'] },
  { id: 'cast-iron', topic: 'heat', noun: noun('cast-iron pan'), kind: noun('heavy pan'),
    facts: [
      { vp: 'hold heat for a long time', q: 'Why {be} {x} good for searing?' },
      'heat up slowly and unevenly on a small burner',
      { vp: 'rust if {they} {are/is} left wet', q: 'What happens if {x} {be} left wet?' },
      'get a dark, nonstick coating from layers of baked-on oil',
    ],
    places: ['kitchen'] },
  { id: 'butter', topic: 'heat', noun: mass('butter'), kind: noun('fat'), that: 'be made by churning cream',
    facts: [
      { vp: 'contain about 80 percent fat', q: 'How much fat {do} {x} contain?' },
      { vp: 'burn more easily than most oils', why: 'the milk solids in it burn at a low temperature' },
      { vp: 'turn brown and ^smell nutty when it is cooked past the point of foaming', seen: true },
      'melt in the mouth, since it melts at a little below body temperature',
    ],
    places: ['kitchen'] },

  // ---- sauces and foams
  { id: 'emulsion', topic: 'sauces', noun: noun('emulsion'), kind: noun('mixture of two liquids'), that: 'would not normally mix',
    facts: [
      { vp: 'be made by breaking one liquid into tiny droplets inside the other', q: 'How {be} {x} made?' },
      { vp: 'need an emulsifier to stay mixed for long', q: 'What keeps {x} from separating?' },
      'include mayonnaise, vinaigrette and milk',
    ],
    places: ['kitchen'] },
  { id: 'mayonnaise', topic: 'sauces', noun: mass('mayonnaise'), kind: noun('thick, cold sauce'), that: 'be made from oil, egg yolk and lemon juice or vinegar',
    facts: [
      { vp: 'be an emulsion of oil droplets in a little water', q: 'What kind of mixture {be} {x}?' },
      { vp: 'split if the oil is added too quickly', q: 'Why {do} {x} split?' },
      'can be saved by whisking it slowly into a fresh yolk',
    ],
    places: ['kitchen'] },
  { id: 'egg-yolk', topic: 'sauces', noun: noun('egg yolk'), kind: noun('yellow part of an egg'), definiteKind: true,
    facts: [
      { vp: 'hold oil and water together in sauces', why: '{they} {contain/contains} lecithin, a natural emulsifier' },
      { vp: 'set at a higher temperature than egg whites', q: 'Which sets first, egg yolks or egg whites?' },
      'give custards and sauces a rich, smooth texture',
    ],
    places: ['kitchen'] },
  { id: 'egg-white', topic: 'sauces', noun: noun('egg white'), kind: noun('clear part of an egg'), definiteKind: true, that: 'turn white when cooked',
    facts: [
      { vp: 'whip into a stiff foam', why: 'the proteins in {them} unfold and wrap around air bubbles' },
      { vp: 'be mostly water and protein', q: 'What {be} {x} made of?' },
      { vp: 'whip best in a clean bowl with no trace of fat', q: 'Why should {x} be whipped in a clean bowl?' },
    ],
    places: ['kitchen'] },
  { id: 'cream', topic: 'sauces', noun: mass('cream'), kind: noun('fatty part of milk'), definiteKind: true,
    facts: [
      { vp: 'whip best when it is cold', why: 'cold fat holds the air bubbles in place' },
      { vp: 'turn into butter if it is whipped for too long', q: 'What happens if {x} {be} whipped for too long?' },
      'can be boiled without curdling when it has plenty of fat',
    ],
    places: ['kitchen'] },
  { id: 'milk', topic: 'sauces', noun: mass('milk'), kind: noun('drink'), that: 'come from cows, goats and other mammals',
    facts: [
      { vp: 'be mostly water', q: 'What {be} {x} mostly made of?' },
      { vp: 'contain a sugar called lactose', q: 'What sugar {do} {x} contain?' },
      { vp: 'form a skin on top when it is heated', seen: true },
      'curdle when it meets a strong acid',
    ],
    places: ['kitchen'] },
  { id: 'gelatin', topic: 'sauces', noun: mass('gelatin'), kind: noun('protein'), that: 'come from the collagen in bones and skin',
    facts: [
      { vp: 'make liquids set into a soft jelly as they cool', q: 'What {do} {x} do?' },
      { vp: 'melt at about body temperature', q: 'Why {do} {x} melt in the mouth?' },
      'lose its setting power if it is boiled for a long time',
    ],
    places: ['kitchen'] },
  { id: 'chocolate', topic: 'sauces', noun: mass('chocolate'), kind: noun('food'), that: 'be made from roasted cacao beans',
    facts: [
      { vp: 'melt just below body temperature', why: 'cocoa butter is solid in a cool room but soft in the mouth' },
      { vp: 'seize into a stiff paste if a few drops of water get into it while it melts', q: 'Why {do} {x} sometimes turn thick and grainy when it melts?' },
      'be best melted slowly over gentle heat',
    ],
    places: ['kitchen'] },

  // ---- dough and baking
  { id: 'flour', topic: 'baking', noun: mass('flour'), kind: noun('powder'), that: 'be made by grinding grain',
    facts: [
      { vp: 'contain starch and proteins', q: 'What {do} {x} contain?' },
      'form gluten when it is mixed with water and kneaded',
      'thicken sauces when it is cooked in liquid',
    ],
    places: ['kitchen'] },
  { id: 'gluten', topic: 'baking', noun: mass('gluten'), kind: noun('stretchy network of proteins'),
    facts: [
      { vp: 'form when wheat flour is mixed with water', q: 'When {do} {x} form?' },
      { vp: 'trap gas bubbles so that dough can rise', q: 'Why does bread dough need {x}?' },
      'get stronger the longer dough is kneaded',
      'make bread chewy and cakes tough if there is too much of it',
    ],
    places: ['kitchen'] },
  { id: 'yeast', topic: 'baking', noun: mass('yeast'), kind: noun('tiny fungus', 'tiny fungi'), that: 'live on sugar',
    facts: [
      { vp: 'turn sugar into carbon dioxide and alcohol', q: 'What {do} {x} do in bread dough?' },
      { vp: 'work best in warm dough', q: 'When {do} {x} work best?' },
      'die when it is heated above about 60 °C',
      'work slowly in the fridge, which gives bread more flavour',
    ],
    places: ['kitchen'] },
  { id: 'baking-soda', topic: 'baking', noun: mass('baking soda'), kind: noun('alkaline powder'), that: 'be called sodium bicarbonate',
    facts: [
      { vp: 'release carbon dioxide when it meets an acid', q: 'How {do} {x} make cakes rise?' },
      { vp: 'need an acid such as buttermilk, yogurt or lemon juice', q: 'Why do recipes with {x} include an acid?' },
      'help food brown faster',
      'leave a soapy taste when too much is used',
    ],
    places: ['kitchen'] },
  { id: 'baking-powder', topic: 'baking', noun: mass('baking powder'), kind: noun('mix of baking soda, a dry acid and starch'),
    facts: [
      { vp: 'start to make bubbles as soon as it gets wet', q: 'When {do} {x} start to work?' },
      'release a second burst of gas in the heat of the oven',
      'lose its strength if it is kept in a damp place',
    ],
    places: ['kitchen'] },
  { id: 'bread', topic: 'baking', noun: mass('bread'), kind: noun('food'), that: 'be made from flour, water, salt and usually yeast',
    facts: [
      { vp: 'go stale as the starch in it slowly hardens', q: 'Why {do} {x} go stale?' },
      { vp: 'brown on the outside but stay pale inside', why: 'the crust dries out and gets much hotter than the moist middle' },
      'keep longer at room temperature than in the fridge',
    ],
    places: ['kitchen'] },
  { id: 'starch', topic: 'baking', noun: mass('starch'), kind: noun('carbohydrate'), that: 'be found in grains, beans and potatoes',
    facts: [
      { vp: 'thicken sauces when it is heated in water', q: 'How {do} {x} thicken a sauce?' },
      'soak up water and ^swell as it cooks',
      'make pasta water cloudy',
    ],
    places: ['kitchen'] },

  // ---- salt, sugar and acid
  { id: 'salt', topic: 'preserving', noun: mass('salt'), kind: noun('mineral'), that: 'be made of sodium and chloride',
    facts: [
      { vp: 'draw water out of food', why: 'water moves toward the saltier side of a cell wall' },
      { vp: 'make many flavours taste stronger', q: 'Why do cooks add {x} to sweet food?' },
      { vp: 'slow the growth of bacteria', q: 'How {do} {x} keep food from spoiling?' },
      'tighten the gluten in bread dough',
      { vp: 'lower the freezing point of water', q: 'Why {be} {x} spread on icy roads?' },
    ],
    places: ['kitchen'] },
  { id: 'sugar', topic: 'preserving', noun: mass('sugar'), kind: noun('sweet substance'), that: 'be made mostly from sugar cane and sugar beet',
    facts: [
      { vp: 'caramelise at about 170 °C', q: 'At what temperature {do} {x} caramelise?' },
      'dissolve faster in hot water than in cold water',
      { vp: 'keep cakes moist by holding on to water', q: 'How {do} {x} keep cakes moist?' },
      'feed the yeast in bread dough',
      'keep jam from spoiling by tying up the water that microbes need',
    ],
    places: ['kitchen'] },
  { id: 'vinegar', topic: 'preserving', noun: mass('vinegar'), kind: noun('sour liquid'), that: 'be made when bacteria turn alcohol into acid',
    facts: [
      { vp: 'contain acetic acid', q: 'What acid {do} {x} contain?' },
      { vp: 'keep pickles safe to eat', why: 'few harmful bacteria can grow in strong acid' },
      'fizz when it is poured onto baking soda',
    ],
    places: ['kitchen'] },
  { id: 'lemon-juice', topic: 'preserving', noun: mass('lemon juice'), kind: noun('sour juice'), that: 'be squeezed from lemons',
    facts: [
      { vp: 'contain citric acid', q: 'What acid {do} {x} contain?' },
      { vp: 'keep cut apples from turning brown', q: 'How can you keep cut apples from turning brown?' },
      'make milk thicken and curdle',
      'brighten the taste of rich food',
    ],
    places: ['kitchen'] },
  { id: 'honey', topic: 'preserving', noun: mass('honey'), kind: noun('sweet, thick liquid'), that: 'be made by bees from the nectar of flowers',
    facts: [
      { vp: 'keep for years without spoiling', why: 'it holds so little water that microbes cannot grow in it' },
      'turn grainy and solid when it is stored in the cold',
      'brown faster than sugar in the oven',
    ],
    places: ['kitchen'] },

  // ---- fruit and vegetables
  { id: 'onion', topic: 'produce', noun: noun('onion'), kind: noun('vegetable'), that: 'grow as a bulb under the ground',
    facts: [
      { vp: 'make people cry when {they} {are/is} cut', why: 'cutting {them} releases a gas that stings the eyes' },
      { vp: 'turn sweet and golden when {they} {are/is} cooked slowly', q: 'What happens to {x} when {they} {are/is} cooked slowly?' },
      'keep for months in a cool, dry, dark place',
    ],
    places: ['kitchen', 'garden'] },
  { id: 'tomato', topic: 'produce', noun: noun('tomato'), kind: noun('fruit'), that: 'be usually cooked as a vegetable',
    facts: [
      { vp: 'lose flavour when {they} {are/is} kept in the fridge', q: 'Why should {x} be kept out of the fridge?' },
      'ripen faster next to bananas',
      'grow best in warm, sunny weather',
    ],
    places: ['kitchen', 'garden', 'market'] },
  { id: 'potato', topic: 'produce', noun: noun('potato'), kind: noun('starchy vegetable'), that: 'grow under the ground',
    facts: [
      { vp: 'turn green when {they} {are/is} left in the light', q: 'Why {do} {x} turn green?' },
      'keep best in a cool, dark place',
      'be full of starch',
    ],
    places: ['kitchen', 'garden', 'market'] },
  { id: 'apple', topic: 'produce', noun: noun('apple'), kind: noun('fruit'), that: 'grow on trees',
    facts: [
      { vp: 'turn brown soon after {they} {are/is} cut', why: 'the cut surface reacts with oxygen in the air' },
      'keep for months in a cold store',
      'give off a gas that makes other fruit ripen faster',
    ],
    places: ['kitchen', 'garden', 'market', 'farm'] },
  { id: 'garlic', topic: 'produce', noun: mass('garlic'), kind: noun('plant'), that: 'grow as a bulb made of cloves',
    facts: [
      { vp: 'taste stronger when it is crushed than when it is sliced', q: 'Why does crushed {x} taste stronger than sliced {x}?' },
      'turn bitter if it burns in the pan',
      'be used in cooking all over the world',
    ],
    places: ['kitchen', 'garden'] },
  { id: 'rice', topic: 'produce', noun: mass('rice'), kind: noun('grain'), that: 'be grown in flooded fields in many countries',
    facts: [
      'soak up water and ^soften as it cooks',
      'be the main food of billions of people',
      'turn sticky when it has a lot of a starch called amylopectin',
    ],
    places: ['kitchen', 'farm'] },
]);

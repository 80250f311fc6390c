// Word lists for customer-support dialogues, messages and reviews: invented shops, what they sell,
// and the things that go right and wrong. None of these shops or products exist; the demo datanet's own
// shop, staff and bike models are left out on purpose. Written for Tributary (CC-BY-4.0).

export type ShopKind = 'bikes' | 'kitchen' | 'outdoor';

export interface Shop {
  name: string;
  kind: ShopKind;
}

export const SHOPS: readonly Shop[] = [
  { name: 'Riverbend Cycles', kind: 'bikes' },
  { name: 'Northway Bikes', kind: 'bikes' },
  { name: 'Greenlane Bicycles', kind: 'bikes' },
  { name: 'Cog and Chain', kind: 'bikes' },
  { name: 'Copper Pot Kitchenware', kind: 'kitchen' },
  { name: 'The Mixing Bowl', kind: 'kitchen' },
  { name: 'Tidewater Outdoor', kind: 'outdoor' },
  { name: 'Shoreline Supplies', kind: 'outdoor' },
];

export interface Product {
  name: string;
  /** Price range in whole dollars. */
  price: readonly [number, number];
}

export const PRODUCTS: Record<ShopKind, readonly Product[]> = {
  bikes: [
    { name: 'road bike', price: [600, 1800] }, { name: 'mountain bike', price: [500, 1500] },
    { name: 'hybrid bike', price: [400, 900] }, { name: 'folding bike', price: [500, 1200] },
    { name: 'electric bike', price: [1200, 3000] }, { name: 'cargo bike', price: [1800, 4000] },
    { name: "children's bike", price: [120, 300] }, { name: 'helmet', price: [40, 120] },
    { name: 'bike lock', price: [25, 90] }, { name: 'set of lights', price: [20, 70] },
    { name: 'floor pump', price: [25, 60] }, { name: 'saddle', price: [30, 90] },
    { name: 'pair of gloves', price: [15, 40] }, { name: 'rain jacket', price: [50, 150] },
    { name: 'pair of pannier bags', price: [40, 120] }, { name: 'water bottle', price: [8, 15] },
    { name: 'bell', price: [6, 15] }, { name: 'front basket', price: [20, 45] },
    { name: 'set of mudguards', price: [20, 50] }, { name: 'pair of tyres', price: [50, 110] },
    { name: 'chain', price: [20, 50] }, { name: 'pair of pedals', price: [20, 80] },
  ],
  kitchen: [
    { name: 'cast-iron pan', price: [35, 90] }, { name: 'stand mixer', price: [180, 450] },
    { name: 'set of kitchen scales', price: [15, 40] }, { name: "chef's knife", price: [40, 150] },
    { name: 'cake tin', price: [10, 30] }, { name: 'kitchen thermometer', price: [12, 35] },
    { name: 'pressure cooker', price: [60, 160] }, { name: 'kettle', price: [25, 80] },
    { name: 'bread tin', price: [10, 25] }, { name: 'set of mixing bowls', price: [20, 60] },
    { name: 'wooden chopping board', price: [20, 55] }, { name: 'stockpot', price: [30, 90] },
  ],
  outdoor: [
    { name: 'pair of binoculars', price: [60, 300] }, { name: 'wetsuit', price: [90, 250] },
    { name: 'snorkel set', price: [25, 70] }, { name: 'waterproof jacket', price: [70, 220] },
    { name: 'pair of walking boots', price: [80, 200] }, { name: 'tent', price: [120, 400] },
    { name: 'backpack', price: [40, 140] }, { name: 'head torch', price: [15, 50] },
    { name: 'pair of wading boots', price: [40, 90] }, { name: 'sleeping bag', price: [50, 180] },
  ],
};

export interface Service {
  name: string;
  price: readonly [number, number];
  /** How long it takes, said in words. */
  takes: readonly string[];
}

export const BIKE_SERVICES: readonly Service[] = [
  { name: 'basic tune-up', price: [45, 70], takes: ['about an hour', 'a couple of hours', 'a day'] },
  { name: 'full service', price: [110, 180], takes: ['two days', 'a couple of days', 'three working days'] },
  { name: 'puncture repair', price: [10, 20], takes: ['about twenty minutes', 'half an hour'] },
  { name: 'wheel truing', price: [20, 35], takes: ['about half an hour', 'an hour'] },
  { name: 'brake adjustment', price: [15, 30], takes: ['about twenty minutes', 'half an hour'] },
  { name: 'gear adjustment', price: [15, 30], takes: ['about half an hour', 'an hour'] },
  { name: 'new chain fitted', price: [35, 60], takes: ['about half an hour', 'an hour'] },
];

export const RENTALS: readonly Product[] = [
  { name: 'city bike', price: [15, 25] }, { name: 'electric bike', price: [35, 60] },
  { name: 'tandem', price: [30, 50] }, { name: 'cargo bike', price: [40, 70] }, { name: 'mountain bike', price: [25, 45] },
];

/** What a customer says is wrong, the same in the past tense, its usual cause and the service that fixes it. */
export const BIKE_FAULTS: readonly { now: string; then: string; cause: string; service: string }[] = [
  { now: 'the gears keep slipping', then: 'the gears kept slipping', cause: 'the gears need adjusting or the chain is worn', service: 'gear adjustment' },
  { now: 'the brakes squeal', then: 'the brakes squealed', cause: 'the brake pads are dirty or worn', service: 'brake adjustment' },
  { now: 'the back wheel wobbles', then: 'the back wheel wobbled', cause: 'the wheel needs truing', service: 'wheel truing' },
  { now: 'the chain keeps falling off', then: 'the chain kept falling off', cause: 'the gears need adjusting', service: 'gear adjustment' },
  { now: 'there is a clicking noise when I pedal', then: 'there was a clicking noise when {subj} pedalled', cause: 'something needs tightening or oiling', service: 'basic tune-up' },
  { now: 'the front tyre keeps going flat', then: 'the front tyre kept going flat', cause: 'something sharp is still stuck in the tyre', service: 'puncture repair' },
  { now: 'the brakes feel soft', then: 'the brakes felt soft', cause: 'the brake cables have stretched', service: 'brake adjustment' },
  { now: 'the saddle will not stay up', then: 'the saddle would not stay up', cause: 'the seat post bolt needs tightening', service: 'basic tune-up' },
  { now: 'the pedals are stiff', then: 'the pedals were stiff', cause: 'the bearings need cleaning and greasing', service: 'full service' },
  { now: 'the headset is loose', then: 'the headset was loose', cause: 'the headset needs adjusting', service: 'basic tune-up' },
];

export const DELIVERY_PROBLEMS = [
  'has not arrived', 'arrived damaged', 'arrived with a part missing', 'was the wrong size',
  'was the wrong colour', 'was left outside in the rain', 'was delivered to the wrong address',
] as const;

export const CHANNELS = ['by email', 'by phone', 'through the website', 'in the store'] as const;

/** Words that carry sentiment, for messages and reviews. */
export const PRAISE = ['brilliant', 'excellent', 'fantastic', 'wonderful', 'really helpful', 'friendly', 'quick',
  'spot on', 'first class', 'superb'] as const;
export const COMPLAINTS = ['terrible', 'disappointing', 'slow', 'rude', 'unacceptable', 'poor', 'awful',
  'frustrating', 'careless', 'useless'] as const;

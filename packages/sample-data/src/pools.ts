/**
 * Fixed dimension pools: customers and products are drawn from the same catalogue whatever the seed, as in
 * a real shop, so runs with different seeds share customers and products.
 */
import { createRandom, pickInt, pickOne, pickWeighted } from './prng';

export interface Place {
  city: string;
  state: string;
  postalCode: string;
  region: 'East' | 'West' | 'Central' | 'South';
}

export interface Customer extends Place {
  id: string;
  name: string;
  segment: string;
}

export interface Product {
  id: string;
  category: string;
  subCategory: string;
  name: string;
  price: number;
  /** Profit share of the undiscounted price. */
  margin: number;
}

// Several New England and New Jersey codes start with 0: a column typed as a number loses it.
export const PLACES: readonly Place[] = [
  { city: 'Cambridge', state: 'Massachusetts', postalCode: '02138', region: 'East' },
  { city: 'Boston', state: 'Massachusetts', postalCode: '02108', region: 'East' },
  { city: 'Providence', state: 'Rhode Island', postalCode: '02903', region: 'East' },
  { city: 'Hartford', state: 'Connecticut', postalCode: '06103', region: 'East' },
  { city: 'Newark', state: 'New Jersey', postalCode: '07102', region: 'East' },
  { city: 'Burlington', state: 'Vermont', postalCode: '05401', region: 'East' },
  { city: 'Portland', state: 'Maine', postalCode: '04101', region: 'East' },
  { city: 'New York City', state: 'New York', postalCode: '10024', region: 'East' },
  { city: 'Philadelphia', state: 'Pennsylvania', postalCode: '19120', region: 'East' },
  { city: 'Columbus', state: 'Ohio', postalCode: '43229', region: 'East' },
  { city: 'Wilmington', state: 'Delaware', postalCode: '19805', region: 'East' },
  { city: 'Chicago', state: 'Illinois', postalCode: '60623', region: 'Central' },
  { city: 'Detroit', state: 'Michigan', postalCode: '48205', region: 'Central' },
  { city: 'Houston', state: 'Texas', postalCode: '77095', region: 'Central' },
  { city: 'Dallas', state: 'Texas', postalCode: '75220', region: 'Central' },
  { city: 'San Antonio', state: 'Texas', postalCode: '78207', region: 'Central' },
  { city: 'Minneapolis', state: 'Minnesota', postalCode: '55407', region: 'Central' },
  { city: 'Milwaukee', state: 'Wisconsin', postalCode: '53209', region: 'Central' },
  { city: 'Omaha', state: 'Nebraska', postalCode: '68104', region: 'Central' },
  { city: 'Wichita', state: 'Kansas', postalCode: '67212', region: 'Central' },
  { city: 'Indianapolis', state: 'Indiana', postalCode: '46203', region: 'Central' },
  { city: 'Atlanta', state: 'Georgia', postalCode: '30318', region: 'South' },
  { city: 'Miami', state: 'Florida', postalCode: '33142', region: 'South' },
  { city: 'Jacksonville', state: 'Florida', postalCode: '32216', region: 'South' },
  { city: 'Nashville', state: 'Tennessee', postalCode: '37211', region: 'South' },
  { city: 'Charlotte', state: 'North Carolina', postalCode: '28205', region: 'South' },
  { city: 'New Orleans', state: 'Louisiana', postalCode: '70119', region: 'South' },
  { city: 'Louisville', state: 'Kentucky', postalCode: '40214', region: 'South' },
  { city: 'Richmond', state: 'Virginia', postalCode: '23223', region: 'South' },
  { city: 'Birmingham', state: 'Alabama', postalCode: '35244', region: 'South' },
  { city: 'Los Angeles', state: 'California', postalCode: '90036', region: 'West' },
  { city: 'San Francisco', state: 'California', postalCode: '94122', region: 'West' },
  { city: 'San Diego', state: 'California', postalCode: '92024', region: 'West' },
  { city: 'Seattle', state: 'Washington', postalCode: '98103', region: 'West' },
  { city: 'Portland', state: 'Oregon', postalCode: '97206', region: 'West' },
  { city: 'Denver', state: 'Colorado', postalCode: '80219', region: 'West' },
  { city: 'Phoenix', state: 'Arizona', postalCode: '85023', region: 'West' },
  { city: 'Las Vegas', state: 'Nevada', postalCode: '89115', region: 'West' },
  { city: 'Salt Lake City', state: 'Utah', postalCode: '84106', region: 'West' },
  { city: 'Albuquerque', state: 'New Mexico', postalCode: '87105', region: 'West' },
];

const FIRST_NAMES = [
  'Claire',
  'Darrin',
  'Sean',
  'Brosina',
  'Andrew',
  'Irene',
  'Harold',
  'Pete',
  'Alejandro',
  'Zuschuss',
  'Ken',
  'Sandra',
  'Emily',
  'Eric',
  'Tracy',
  'Matt',
  'Gene',
  'Steve',
  'Linda',
  'Ruben',
  'José',
  'Zoë',
  'Søren',
  'Chloé',
  'François',
  'Björn',
  'Renée',
  'Noël',
  'Íñigo',
  'Ana',
] as const;

const LAST_NAMES = [
  'Gute',
  'Van Huff',
  "O'Donnell",
  'Hoffman',
  'Allen',
  'Maddox',
  'Pawlan',
  'Kriz',
  'Grove',
  'Carroll',
  'Black',
  'Flathmann',
  'Phan',
  'Hoffmann',
  'Blount',
  'Abelman',
  'Hale',
  'Ross',
  'Cazamias',
  'Dahlen',
  'Müller',
  'Ångström',
  'Nuñez',
  'Çelik',
  'Dvořák',
  'Łukasik',
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
] as const;

const SEGMENTS = [
  ['Consumer', 0.52],
  ['Corporate', 0.3],
  ['Home Office', 0.18],
] as const;

interface SubCategory {
  category: string;
  name: string;
  code: string;
  items: readonly string[];
  priceRange: readonly [number, number];
  marginRange: readonly [number, number];
}

const SUB_CATEGORIES: readonly SubCategory[] = [
  {
    category: 'Furniture',
    name: 'Chairs',
    code: 'CH',
    items: ['Task Chair', 'Stacking Chair, Mesh', 'Executive Leather Chair', 'Ergonomic Chair™'],
    priceRange: [60, 600],
    marginRange: [0.02, 0.18],
  },
  {
    category: 'Furniture',
    name: 'Tables',
    code: 'TA',
    items: ['Conference Table', 'Café Table, Round', 'Training Table 72"', 'Folding Table'],
    priceRange: [120, 900],
    marginRange: [-0.08, 0.12],
  },
  {
    category: 'Furniture',
    name: 'Bookcases',
    code: 'BO',
    items: ['5-Shelf Bookcase', 'Corner Bookcase', 'Bookcase, Oak Finish'],
    priceRange: [80, 500],
    marginRange: [-0.05, 0.1],
  },
  {
    category: 'Furniture',
    name: 'Furnishings',
    code: 'FU',
    items: ['Desk Lamp', 'Wall Clock 12"', 'Frame, Walnut', 'Floor Mat'],
    priceRange: [5, 120],
    marginRange: [0.1, 0.35],
  },
  {
    category: 'Office Supplies',
    name: 'Binders',
    code: 'BI',
    items: ['Binder 3" Ring', 'Presentation Binder', 'Binder, Recycled, 2"'],
    priceRange: [3, 40],
    marginRange: [0.2, 0.45],
  },
  {
    category: 'Office Supplies',
    name: 'Paper',
    code: 'PA',
    items: ['Copy Paper, 5000/Box', 'Message Book', 'Papier Mâché Sheets', 'Easel Pad'],
    priceRange: [4, 60],
    marginRange: [0.3, 0.48],
  },
  {
    category: 'Office Supplies',
    name: 'Storage',
    code: 'ST',
    items: ['File Cart', 'Storage Box, 12/Pack', 'Drawer Organizer'],
    priceRange: [10, 250],
    marginRange: [0.05, 0.3],
  },
  {
    category: 'Office Supplies',
    name: 'Art',
    code: 'AR',
    items: ['Colored Pencils, 24/Set', 'Highlighters', 'Crayons'],
    priceRange: [2, 30],
    marginRange: [0.2, 0.4],
  },
  {
    category: 'Office Supplies',
    name: 'Appliances',
    code: 'AP',
    items: ['Microwave', 'Space Heater', 'Air Purifier™', 'Coffee Maker'],
    priceRange: [30, 400],
    marginRange: [0.1, 0.3],
  },
  {
    category: 'Office Supplies',
    name: 'Labels',
    code: 'LA',
    items: ['Address Labels', 'Color-Coded Labels, 100/Pack'],
    priceRange: [2, 25],
    marginRange: [0.35, 0.48],
  },
  {
    category: 'Technology',
    name: 'Phones',
    code: 'PH',
    items: ['Smartphone', 'Conference Phone', 'Headset, Wireless', 'Desk Phone'],
    priceRange: [40, 900],
    marginRange: [0.05, 0.25],
  },
  {
    category: 'Technology',
    name: 'Accessories',
    code: 'AC',
    items: ['Wireless Mouse', 'Keyboard', 'USB Hub, 7-Port', 'Webcam HD'],
    priceRange: [10, 200],
    marginRange: [0.1, 0.3],
  },
  {
    category: 'Technology',
    name: 'Machines',
    code: 'MA',
    items: ['Laser Printer', 'Label Maker', 'Shredder', '3D Printer'],
    priceRange: [100, 3000],
    marginRange: [-0.1, 0.2],
  },
  {
    category: 'Technology',
    name: 'Copiers',
    code: 'CO',
    items: ['Copier', 'Multifunction Copier, Color'],
    priceRange: [500, 3500],
    marginRange: [0.2, 0.4],
  },
];

const BRANDS = [
  'Acme',
  'Hon',
  'Avery',
  'Fellowes',
  'Logitech',
  'Canon',
  'Eldon',
  'Bretford',
  'Novimex',
  'Hewlett',
] as const;

// Fixed pool seed: changing it changes every generated data set.
const POOL_SEED = 20230101;
const CUSTOMER_COUNT = 800;
const PRODUCTS_PER_SUB_CATEGORY = 14;

const round2 = (value: number): number => Math.round(value * 100) / 100;

function buildCustomers(): Customer[] {
  const random = createRandom(POOL_SEED);
  const customers: Customer[] = [];
  for (let i = 0; i < CUSTOMER_COUNT; i++) {
    const name = `${pickOne(random, FIRST_NAMES)} ${pickOne(random, LAST_NAMES)}`;
    const initials = name
      .split(' ')
      .map((part) => part.normalize('NFD').replace(/[^A-Za-z]/g, '')[0] ?? 'X')
      .join('')
      .slice(0, 2)
      .toUpperCase();
    customers.push({
      id: `${initials}-${10000 + i}`,
      name,
      segment: pickWeighted(random, SEGMENTS),
      ...pickOne(random, PLACES),
    });
  }
  return customers;
}

function buildProducts(): Product[] {
  const random = createRandom(POOL_SEED + 1);
  const products: Product[] = [];
  let serial = 10000000;
  for (const sub of SUB_CATEGORIES) {
    for (let i = 0; i < PRODUCTS_PER_SUB_CATEGORY; i++) {
      const [minPrice, maxPrice] = sub.priceRange;
      const [minMargin, maxMargin] = sub.marginRange;
      serial += pickInt(random, 1, 9000);
      products.push({
        id: `${sub.category.slice(0, 3).toUpperCase()}-${sub.code}-${serial}`,
        category: sub.category,
        subCategory: sub.name,
        name: `${pickOne(random, BRANDS)} ${pickOne(random, sub.items)}`,
        price: round2(minPrice + random() ** 2 * (maxPrice - minPrice)),
        margin: round2(minMargin + random() * (maxMargin - minMargin)),
      });
    }
  }
  return products;
}

export const CUSTOMERS: readonly Customer[] = buildCustomers();
export const PRODUCTS: readonly Product[] = buildProducts();

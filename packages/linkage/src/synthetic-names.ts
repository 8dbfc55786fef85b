/**
 * Invented-population name lists for synthetic children: roughly the shape of UK given
 * names for births 2008-2015 and of UK surnames, in frequency tiers (weight, names).
 * Rough weights only; no real person is described by any combination.
 */
/** Frequency tiers: each name in a tier has that tier's weight. */
export type NameTiers = ReadonlyArray<readonly [weight: number, names: string]>;

/** Boys' given names by frequency tier. */
export const BOY_FORENAMES: NameTiers = [
  [100, 'Oliver Jack Harry Jacob Charlie Thomas George Oscar James William'],
  [60, 'Noah Alfie Joshua Muhammad Henry Leo Archie Ethan Joseph Freddie Samuel Alexander Logan Daniel Isaac Max'],
  [
    35,
    'Mohammed Benjamin Mason Lucas Edward Harrison Jake Dylan Riley Finley Theo Sebastian Adam Zachary Arthur Toby Jayden Luke Harley Lewis Tyler Harvey Matthew David Reuben Michael Elijah Kian Tommy',
  ],
  [
    18,
    'Mohammad Blake Luca Theodore Stanley Jenson Nathan Charles Frankie Jude Teddy Louie Louis Ryan Hugo Bobby Elliott Dexter Ollie Alex Liam Kai Gabriel Connor Aaron Frederick Callum Elliot Albert Leon Ronnie Rory Jamie Austin Seth Ibrahim Owen Caleb Ellis Sonny Robert Joey Felix Finlay Jackson',
  ],
  [
    8,
    'Kyle Cameron Rhys Bradley Kieran Jordan Ben Aidan Ashton Brandon Corey Declan Evan Tristan Alan Ahmed Yusuf Hamza Ayaan Omar Ali Hassan Bilal Zain Aryan Arjun Rohan Krish Jakub Szymon Filip Oskar Kacper Tomasz Mateusz Dominic Patrick Sean Conor Cian Ciaran Eoin Fraser Angus Euan Lachlan Hamish Dafydd Rhodri Gethin Emmanuel Samuel-James Tobias Jonah Eli Micah Ezra Ralph Rowan Jasper Harris Jay Marcus Andre Tyrese Malachi Jayce Kayden Brodie Reece Billy Stephen Mark Paul',
  ],
];

/** Girls' given names by frequency tier. */
export const GIRL_FORENAMES: NameTiers = [
  [100, 'Amelia Olivia Isla Emily Poppy Ava Isabella Jessica Lily Sophie'],
  [60, 'Grace Sophia Mia Evie Ruby Ella Scarlett Isabelle Chloe Sienna Freya Phoebe Charlotte Daisy Alice Florence'],
  [
    35,
    'Eva Sofia Millie Lucy Evelyn Elsie Rosie Imogen Lola Matilda Elizabeth Layla Holly Lilly Molly Erin Ellie Maisie Maya Abigail Eliza Georgia Jasmine Esme Willow Bella Annabelle Ivy Amber Emilia',
  ],
  [
    18,
    'Emma Summer Hannah Eleanor Harriet Rose Amelie Lexi Megan Gracie Zara Lacey Martha Anna Violet Darcey Maria Maryam Brooke Aisha Katie Leah Thea Darcie Hollie Amy Mollie Heidi Lottie Bethany Francesca Faith Harper Nancy Beatrice Isabel Darcy Lydia Sarah Sara Julia Victoria Zoe',
  ],
  [
    8,
    'Robyn Niamh Caitlin Lauren Paige Courtney Abbie Aimee Alisha Aaliyah Zainab Fatima Hafsa Khadija Ayesha Amina Safa Anaya Priya Simran Zofia Zuzanna Julia-Rose Maja Hanna Oliwia Aoife Saoirse Ciara Orla Siobhan Eilidh Kirsty Morag Catrin Ffion Seren Cerys Nia Tegan Keira Kayla Jade Shannon Chelsea Demi Leila Nadia Precious Blessing Favour Tia Alexis Skye Sasha Tilly Eloise Ophelia Clara Orla-Mae Mary Jennifer Rebecca Natalie',
  ],
];

/** Surnames by frequency tier, including double-barrelled, Mc/Mac and apostrophe forms. */
export const SURNAMES: NameTiers = [
  [100, 'Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson'],
  [
    55,
    'Roberts Robinson Thompson Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner Martin Cooper Hill',
  ],
  [
    30,
    'Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell',
  ],
  [
    14,
    "Barker Fisher Stevens Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley Dunn Woods Parsons Berry Stone Reid Holland Hawkins Harding Porter Robertson Newton Oliver Reed Kennedy Williamson Bird Gardner Shah Dean Lane Cooke Bates Henderson Parry Burgess Bishop Walton Burns Nicholson Shepherd Ross Cross Long Freeman Warren Nicholls Hamilton Byrne Sutton McDonald Yates",
  ],
  [
    6,
    "Hodgson Robson Curtis Hopkins O'Connor Harper Coleman Watkins Moss McCarthy Chambers O'Neill Griffin Sharp Hardy Wheeler Potter Osborne Johnston Gordon Doyle Wallace George Jordan Hutchinson Rahman Miah Uddin Islam Choudhury Akhtar Iqbal Mahmood Sharma Kumar Mistry Nowak Kowalski Wisniewski Wojcik Kaminski Lewandowski Mensah Okafor Adeyemi Okoro Boateng Asante Nguyen Chen Wang Zhang Lloyd-Jones Smith-Jones MacLeod MacKenzie Fraser Macdonald Duffy Quinn Gallagher Doherty Brennan Flanagan Kavanagh McLaughlin Morrison Paterson Cunningham Sinclair Hendry Pritchard Vaughan Powell-Evans Jenkinson Haworth Butterworth Ramsbottom Ackroyd Sowerby Thwaite Brannigan D'Souza Fernandes Pereira Silva Costa Rossi Popescu Ionescu Horvath Nagy Petrov Ivanova Yilmaz Demir Kaya",
  ],
];

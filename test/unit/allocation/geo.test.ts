import { formatDistance, haversineMeters } from '../../../server/allocation';
import { boxLowerBoundMeters } from '../../../server/allocation/geo';
import { seededRandom } from './helpers';

describe('haversineMeters', () => {
  it('matches known city distances within 0.5 %', () => {
    // Beijing Tiananmen → Shanghai People's Square is about 1,067 km on the great circle.
    expect(haversineMeters(39.9087, 116.3975, 31.2304, 121.4737) / 1000).toBeCloseTo(1067, -1);
    expect(haversineMeters(30, 120, 31, 120)).toBeCloseTo(111_195, -1);
    expect(haversineMeters(30, 120, 30, 120)).toBe(0);
  });

  it('is symmetric and handles the antimeridian', () => {
    expect(haversineMeters(10, 179.9, 10, -179.9)).toBeCloseTo(haversineMeters(10, -0.1, 10, 0.1), 6);
  });
});

describe('boxLowerBoundMeters', () => {
  it('never exceeds the distance to any point of the box', () => {
    const rand = seededRandom(7);
    for (let i = 0; i < 2000; i++) {
      const lat = (rand() - 0.5) * 160;
      const lng = (rand() - 0.5) * 360;
      const latMin = (rand() - 0.5) * 160;
      const latMax = Math.min(89, latMin + rand() * 20);
      const lngMin = (rand() - 0.5) * 340;
      const lngMax = Math.min(180, lngMin + rand() * 40);
      const bound = boxLowerBoundMeters(lat, lng, Math.cos((lat * Math.PI) / 180), latMin, latMax, lngMin, lngMax);
      let nearest = Number.POSITIVE_INFINITY;
      for (let s = 0; s <= 20; s++) {
        for (let t = 0; t <= 20; t++) {
          const d = haversineMeters(
            lat,
            lng,
            latMin + ((latMax - latMin) * s) / 20,
            lngMin + ((lngMax - lngMin) * t) / 20,
          );
          nearest = Math.min(nearest, d);
        }
      }
      expect(bound).toBeLessThanOrEqual(nearest);
    }
  });

  it('is zero inside the box and positive outside', () => {
    expect(boxLowerBoundMeters(30, 120, Math.cos(Math.PI / 6), 29, 31, 119, 121)).toBe(0);
    expect(boxLowerBoundMeters(33, 120, Math.cos((33 * Math.PI) / 180), 29, 31, 119, 121)).toBeGreaterThan(220_000);
  });
});

describe('formatDistance', () => {
  it('uses metres below a kilometre', () => {
    expect(formatDistance(850.4)).toBe('850 m');
    expect(formatDistance(1234)).toBe('1.2 km');
  });
});
